import Foundation

/// The shared state behind a set of `LocalCommunicator`s: a rendezvous for collectives and a
/// mailbox for point-to-point messages, guarded by one condition variable.
final class LocalWorld: @unchecked Sendable {
    struct Message {
        let kind: ScalarKind
        let payload: [UInt8]
    }

    private struct MailKey: Hashable {
        let source: Int
        let destination: Int
        let tag: Int
    }

    let size: Int
    let timeout: TimeInterval
    private let condition = NSCondition()

    // Rendezvous of the collective in progress.
    private var signatures: [String?]
    private var payloads: [[UInt8]]
    private var arrived = 0
    private var leaving = 0
    private var round = 0
    private var completed: (signatures: [String], payloads: [[UInt8]]) = ([], [])

    private var mailbox: [MailKey: [Message]] = [:]
    /// Set once a rank timed out: the world is then unusable and every call fails with it.
    private var broken: CommunicatorError?

    init(size: Int, timeout: TimeInterval) {
        self.size = size
        self.timeout = timeout
        signatures = Array(repeating: nil, count: size)
        payloads = Array(repeating: [], count: size)
    }

    /// Deposits this rank's call and payload, waits for every rank, and returns all payloads in
    /// rank order once every rank's call matches this one.
    func exchange(rank: Int, signature: String, payload: [UInt8]) throws -> [[UInt8]] {
        condition.lock()
        let deadline = Date(timeIntervalSinceNow: timeout)
        // The previous collective's ranks must all have left before this one fills the slots.
        while leaving > 0 && broken == nil {
            if !condition.wait(until: deadline) { break }
        }
        if let broken {
            condition.unlock()
            throw broken
        }
        signatures[rank] = signature
        payloads[rank] = payload
        arrived += 1
        let myRound = round
        if arrived == size {
            completed = (signatures.map { $0! }, payloads)
            signatures = Array(repeating: nil, count: size)
            payloads = Array(repeating: [], count: size)
            arrived = 0
            leaving = size
            round += 1
            condition.broadcast()
        } else {
            while round == myRound && broken == nil {
                if !condition.wait(until: deadline) && round == myRound {
                    let missing = (0..<size).filter { signatures[$0] == nil }
                    broken = .timeout(
                        "rank \(rank) waited \(Int(timeout)) s in \(signature); ranks \(missing) never entered it")
                    condition.broadcast()
                }
            }
            if round == myRound, let broken {
                condition.unlock()
                throw broken
            }
        }
        let result = completed
        leaving -= 1
        if leaving == 0 { condition.broadcast() }
        condition.unlock()

        if Set(result.signatures).count > 1 {
            let calls = result.signatures.enumerated().map { "rank \($0.offset): \($0.element)" }.joined(
                separator: "; ")
            throw CommunicatorError.mismatch(calls)
        }
        return result.payloads
    }

    /// Leaves a message for `destination`; never blocks.
    func post(from source: Int, to destination: Int, tag: Int, kind: ScalarKind, payload: [UInt8]) {
        condition.lock()
        mailbox[MailKey(source: source, destination: destination, tag: tag), default: []].append(
            Message(kind: kind, payload: payload))
        condition.broadcast()
        condition.unlock()
    }

    /// Takes the oldest message from `source` to `rank` with `tag`, waiting for it up to `timeout`.
    func receive(at rank: Int, from source: Int, tag: Int) throws -> Message {
        let key = MailKey(source: source, destination: rank, tag: tag)
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while mailbox[key, default: []].isEmpty {
            if let broken { throw broken }
            if !condition.wait(until: deadline) && mailbox[key, default: []].isEmpty {
                let error = CommunicatorError.timeout(
                    "rank \(rank) waited \(Int(timeout)) s for a message from rank \(source) with tag \(tag)")
                broken = error
                condition.broadcast()
                throw error
            }
        }
        return mailbox[key]!.removeFirst()
    }
}
