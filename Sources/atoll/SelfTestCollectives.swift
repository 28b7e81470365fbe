import ArgumentParser
import Collectives
import Foundation
import Kernels

/// `atoll selftest collectives`: every `Communicator` operation on `MPICommunicator`, checked
/// against values each rank can compute alone, plus the reproducible sum's bits.
///
/// Prints `reproducible-sum digest 0x…` on rank 0: the FNV-1a hash of the sum's bits, which must
/// be the same for every rank count and every `--shuffle-seed`. Exits 1 if any check fails.
struct SelfTestCollectives: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collectives",
        abstract: "Check allreduce, broadcast, allgather(v), sendrecv, barrier and the reproducible sum under MPI."
    )

    @Option(help: "Seed of the permutation that assigns the reproducible sum's contributions to ranks.")
    var shuffleSeed: UInt64 = 0

    @Option(help: "Number of contributions to the reproducible sum.")
    var contributions: Int = 12

    @Option(help: "Elements per contribution.")
    var length: Int = 4099

    func run() throws {
        let comm = MPICommunicator()
        var failures: [String] = []
        func check(_ ok: Bool, _ what: @autoclosure () -> String) {
            if !ok { failures.append("rank \(comm.rank): \(what())") }
        }
        let r = comm.rank
        let p = comm.size

        // allreduce over Float, Double and Int64: rank r contributes r + 1 + i at element i.
        var f = (0..<5).map { Float(r + 1 + $0) }
        try comm.allreduce(&f, op: .sum)
        check(f == (0..<5).map { i in Float((1...p).reduce(0) { $0 + $1 + i }) }, "Float sum \(f)")
        var d = (0..<5).map { Double(r + 1 + $0) }
        try comm.allreduce(&d, op: .max)
        check(d == (0..<5).map { Double(p + $0) }, "Double max \(d)")
        var q = (0..<5).map { Int64(r + 1 + $0) }
        try comm.allreduce(&q, op: .min)
        check(q == (0..<5).map { Int64(1 + $0) }, "Int64 min \(q)")

        // broadcast from the last rank.
        var b = [Double](repeating: Double(r), count: 3)
        try comm.broadcast(&b, root: p - 1)
        check(b == [Double](repeating: Double(p - 1), count: 3), "broadcast \(b)")

        // allgather and allgatherv (rank r sends r + 1 copies of r).
        let gathered = try comm.allgather([Int64(r), Int64(10 * r)])
        check(gathered == (0..<p).flatMap { [Int64($0), Int64(10 * $0)] }, "allgather \(gathered)")
        let ragged = try comm.allgatherv([Float](repeating: Float(r), count: r + 1))
        check(ragged == (0..<p).map { [Float](repeating: Float($0), count: $0 + 1) }, "allgatherv \(ragged)")

        // sendrecv around a ring.
        let next = (r + 1) % p
        let previous = (r + p - 1) % p
        let sent: [Int64] = [Int64(r), 42]
        var received: [Int64] = [-1, -1]
        try sent.withUnsafeBufferPointer { s in
            try received.withUnsafeMutableBufferPointer {
                try comm.sendrecv(s, to: next, into: $0, from: previous, tag: 7)
            }
        }
        check(received == [Int64(previous), 42], "sendrecv \(received)")
        // exchange: every rank sends [r, peer, tag] to every other rank under tags 3 and 4; the
        // messages live in one flat buffer each way, three values per message.
        let peers = (0..<p).filter { $0 != r }
        let routes = peers.flatMap { peer in [3, 4].map { (peer: peer, tag: $0) } }
        let outgoing: [Int64] = routes.flatMap { [Int64(r), Int64($0.peer), Int64($0.tag)] }
        var incoming = [Int64](repeating: -1, count: outgoing.count)
        try outgoing.withUnsafeBufferPointer { out in
            try incoming.withUnsafeMutableBufferPointer { inc in
                try comm.exchange(
                    sends: routes.enumerated().map { i, route in
                        OutgoingMessage(
                            to: route.peer, tag: route.tag,
                            values: UnsafeBufferPointer(rebasing: out[3 * i..<3 * i + 3]))
                    },
                    receives: routes.enumerated().map { i, route in
                        IncomingMessage(
                            from: route.peer, tag: route.tag,
                            into: UnsafeMutableBufferPointer(rebasing: inc[3 * i..<3 * i + 3]))
                    })
            }
        }
        let expectedIncoming: [Int64] = routes.flatMap { [Int64($0.peer), Int64(r), Int64($0.tag)] }
        check(incoming == expectedIncoming, "exchange \(incoming)")
        try comm.barrier()

        // Reproducible sum: contributions assigned to ranks by a seeded permutation.
        let all = Self.contributionSet(count: contributions, length: length)
        var order = Array(0..<contributions)
        var shuffler = RandomStream(seed: shuffleSeed, purpose: "selftest-assignment")
        shuffler.shuffle(&order)
        let mine = order.enumerated().filter { $0.offset * p / contributions == r }.map { all[$0.element] }
        var result = [Float](repeating: 0, count: length)
        try withBufferViews(mine) { buffers in
            try result.withUnsafeMutableBufferPointer {
                try ReproducibleAllreduce.sum(buffers, into: $0, communicator: comm)
            }
        }
        let maxAbs = all.flatMap { $0 }.map { Double(abs($0)) }.max()!
        let worst = (0..<length).map { i in abs(Double(result[i]) - all.reduce(0.0) { $0 + Double($1[i]) }) }.max()!
        check(worst <= 1e-6 * maxAbs, "reproducible sum off by \(worst) (bound \(1e-6 * maxAbs))")
        let digests = try comm.allgather([Int64(bitPattern: Self.digest(result))])
        check(Set(digests).count == 1, "ranks disagree on the reproducible sum: \(digests)")

        let report = failures.joined(separator: "\n")
        let reports = try comm.allgatherStrings(report).filter { !$0.isEmpty }
        if r == 0 {
            print(String(format: "reproducible-sum digest 0x%016llx", Self.digest(result)))
            print(String(format: "reproducible-sum max error %.3e (max |x| %.3e)", worst, maxAbs))
        }
        if !reports.isEmpty {
            if r == 0 { fputs(reports.joined(separator: "\n") + "\n", stderr) }
            throw ExitCode.failure
        }
        if r == 0 { print("selftest collectives: all checks passed on \(p) rank(s)") }
    }

    /// Contributions whose magnitudes span 1e−3 … 1e3 and partly cancel, from a fixed seed.
    static func contributionSet(count: Int, length: Int) -> [[Float]] {
        (0..<count).map { c in
            var stream = RandomStream(seed: 2026, island: c, purpose: "selftest-contribution")
            let scale = Float([1e-3, 1, 1e3][c % 3])
            return (0..<length).map { _ in scale * Float(stream.gaussian()) }
        }
    }

    /// FNV-1a over the bit patterns of `values`.
    static func digest(_ values: [Float]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in values {
            var bits = v.bitPattern
            for _ in 0..<4 {
                hash = (hash ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3
                bits >>= 8
            }
        }
        return hash
    }
}
