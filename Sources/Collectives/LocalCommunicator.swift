import Foundation

/// `Communicator` for N ranks that are threads of one process: tests and single-process runs.
///
/// Semantics match `MPICommunicator`: a collective returns only when every rank has entered it,
/// and reductions combine contributions in rank order 0, 1, …, N−1, so results do not depend on
/// thread timing. Ranks that enter different collectives (or the same one with a different element
/// type, count or root) get `CommunicatorError.mismatch` naming each rank's call; a rank that waits
/// longer than `timeout` seconds gets `CommunicatorError.timeout` naming the ranks that never came,
/// and the world is then broken: every later call fails at once instead of hanging.
public final class LocalCommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public var size: Int { world.size }
    private let world: LocalWorld

    private init(rank: Int, world: LocalWorld) {
        self.rank = rank
        self.world = world
    }

    /// Makes `size` communicators that share one world; give each to its own thread.
    public static func makeWorld(size: Int, timeout: TimeInterval = 120) -> [LocalCommunicator] {
        precondition(size >= 1, "a world needs at least one rank")
        let world = LocalWorld(size: size, timeout: timeout)
        return (0..<size).map { LocalCommunicator(rank: $0, world: world) }
    }

    /// Runs `body` on `size` threads, one per rank, and returns each rank's result in rank order.
    ///
    /// - Throws: the error of the lowest rank whose `body` threw.
    public static func run<R: Sendable>(
        size: Int, timeout: TimeInterval = 120, _ body: @escaping @Sendable (LocalCommunicator) throws -> R
    ) throws -> [R] {
        let ranks = makeWorld(size: size, timeout: timeout)
        let results = ResultSlots<R>(count: size)
        let done = DispatchGroup()
        for comm in ranks {
            done.enter()
            let thread = Thread {
                results.set(comm.rank, Result { try body(comm) })
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return try results.values().map { try $0.get() }
    }

    // MARK: Collectives

    public func allreduce<T: CommScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws {
        let all = try world.exchange(
            rank: rank, signature: "allreduce(\(op), \(T.kind), count \(buffer.count))", payload: bytes(of: buffer))
        for (r, payload) in all.enumerated() {
            payload.withUnsafeBytes { raw in
                let values = raw.bindMemory(to: T.self)
                for i in 0..<buffer.count {
                    if r == 0 {
                        buffer[i] = values[i]
                    } else {
                        switch op {
                        case .sum: buffer[i] = T.reduceSum(buffer[i], values[i])
                        case .max: buffer[i] = Swift.max(buffer[i], values[i])
                        case .min: buffer[i] = Swift.min(buffer[i], values[i])
                        }
                    }
                }
            }
        }
    }

    public func broadcast<T: CommScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        guard (0..<size).contains(root) else {
            throw CommunicatorError.invalidArgument("broadcast root rank \(root) is outside 0..<\(size)")
        }
        let all = try world.exchange(
            rank: rank, signature: "broadcast(root \(root), \(T.kind), count \(buffer.count))",
            payload: rank == root ? bytes(of: buffer) : [])
        copy(all[root], into: UnsafeMutableRawBufferPointer(buffer))
    }

    public func allgather<T: CommScalar>(_ sent: UnsafeBufferPointer<T>, into received: UnsafeMutableBufferPointer<T>)
        throws
    {
        guard received.count == sent.count * size else {
            throw CommunicatorError.invalidArgument(
                "allgather needs \(sent.count * size) receive slots, got \(received.count)")
        }
        let all = try world.exchange(
            rank: rank, signature: "allgather(\(T.kind), count \(sent.count))", payload: bytes(of: sent))
        let raw = UnsafeMutableRawBufferPointer(received)
        let block = sent.count * MemoryLayout<T>.stride
        for (r, payload) in all.enumerated() {
            copy(payload, into: UnsafeMutableRawBufferPointer(rebasing: raw[r * block..<(r + 1) * block]))
        }
    }

    public func allgatherv<T: CommScalar>(
        _ sent: UnsafeBufferPointer<T>, counts: [Int], into received: UnsafeMutableBufferPointer<T>
    ) throws {
        guard counts.count == size, counts[rank] == sent.count, received.count == counts.reduce(0, +) else {
            throw CommunicatorError.invalidArgument(
                "allgatherv counts \(counts) do not fit this rank's \(sent.count) elements or the \(received.count) receive slots"
            )
        }
        let all = try world.exchange(
            rank: rank, signature: "allgatherv(\(T.kind), counts \(counts))", payload: bytes(of: sent))
        let raw = UnsafeMutableRawBufferPointer(received)
        var offset = 0
        for payload in all {
            copy(payload, into: UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + payload.count]))
            offset += payload.count
        }
    }

    public func sendrecv<T: CommScalar>(
        _ sent: UnsafeBufferPointer<T>, to destination: Int,
        into received: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int
    ) throws {
        for (peer, role) in [(destination, "destination"), (source, "source")] where !(0..<size).contains(peer) {
            throw CommunicatorError.invalidArgument("sendrecv \(role) rank \(peer) is outside 0..<\(size)")
        }
        world.post(from: rank, to: destination, tag: tag, kind: T.kind, payload: bytes(of: sent))
        try receive(into: received, from: source, tag: tag)
    }

    /// Takes the next message from `source` with `tag` into `received`, checking type and count.
    private func receive<T: CommScalar>(into received: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws
    {
        let message = try world.receive(at: rank, from: source, tag: tag)
        guard message.kind == T.kind, message.payload.count == received.count * MemoryLayout<T>.stride else {
            throw CommunicatorError.mismatch(
                "rank \(rank) expected \(received.count) \(T.kind) from rank \(source) (tag \(tag)), "
                    + "got \(message.payload.count / message.kind.byteCount) \(message.kind)")
        }
        copy(message.payload, into: UnsafeMutableRawBufferPointer(received))
    }

    public func exchange<T: CommScalar>(sends: [OutgoingMessage<T>], receives: [IncomingMessage<T>]) throws {
        for message in sends {
            guard (0..<size).contains(message.peer) else {
                throw CommunicatorError.invalidArgument(
                    "exchange destination rank \(message.peer) is outside 0..<\(size)")
            }
            world.post(from: rank, to: message.peer, tag: message.tag, kind: T.kind, payload: bytes(of: message.values))
        }
        for message in receives {
            guard (0..<size).contains(message.peer) else {
                throw CommunicatorError.invalidArgument("exchange source rank \(message.peer) is outside 0..<\(size)")
            }
            try receive(into: message.buffer, from: message.peer, tag: message.tag)
        }
    }

    public func barrier() throws {
        _ = try world.exchange(rank: rank, signature: "barrier", payload: [])
    }

    public func abort(message: String) -> Never {
        fputs("atoll: rank \(rank) aborting the run: \(message)\n", stderr)
        exit(1)
    }

    // MARK: Bytes

    private func bytes<T>(of buffer: UnsafeMutableBufferPointer<T>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(buffer))
    }

    private func bytes<T>(of buffer: UnsafeBufferPointer<T>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(buffer))
    }

    private func copy(_ payload: [UInt8], into destination: UnsafeMutableRawBufferPointer) {
        payload.withUnsafeBytes { source in
            if source.count > 0 { destination.copyMemory(from: source) }
        }
    }
}

/// Per-rank results of `LocalCommunicator.run`, written by each rank's thread.
private final class ResultSlots<R>: @unchecked Sendable {
    private var slots: [Result<R, Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<R, Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func values() -> [Result<R, Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
