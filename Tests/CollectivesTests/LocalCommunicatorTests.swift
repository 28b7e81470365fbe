import Collectives
import Foundation
import Testing

/// Every `Communicator` operation on `LocalCommunicator`, at 1, 2, 3 and 4 ranks, checked against
/// values each rank can compute on its own.
@Suite("LocalCommunicator")
struct LocalCommunicatorTests {
    static let sizes = [1, 2, 3, 4]

    @Test("allreduce sum, max and min over Float, Double and Int64", arguments: sizes)
    func allreduce(size: Int) throws {
        let results = try LocalCommunicator.run(size: size) { comm -> ([Float], [Double], [Int64], [Float]) in
            let r = comm.rank
            var f = (0..<6).map { Float(r + 1) * Float($0 + 1) }
            try comm.allreduce(&f, op: .sum)
            var d = (0..<6).map { Double((r * 7 + $0 * 3) % 11) }
            try comm.allreduce(&d, op: .max)
            var q = (0..<6).map { Int64(r * 100 - $0) }
            try comm.allreduce(&q, op: .min)
            var m = [Float(-r), Float(r)]
            try comm.allreduce(&m, op: .min)
            return (f, d, q, m)
        }
        let triangle = Float(size * (size + 1) / 2)
        let expectedSum: [Float] = (0..<6).map { triangle * Float($0 + 1) }
        var expectedMax: [Double] = []
        for i in 0..<6 {
            expectedMax.append((0..<size).map { Double(($0 * 7 + i * 3) % 11) }.max()!)
        }
        for (f, d, q, m) in results {
            #expect(f == expectedSum)
            #expect(d == expectedMax)
            #expect(q == (0..<6).map { Int64(-$0) })
            #expect(m == [Float(-(size - 1)), 0])
        }
    }

    @Test("Int64 sum wraps like MPI_SUM")
    func int64Wraps() throws {
        let results = try LocalCommunicator.run(size: 2) { comm -> [Int64] in
            var v: [Int64] = [Int64.max]
            try comm.allreduce(&v, op: .sum)
            return v
        }
        #expect(results.allSatisfy { $0 == [-2] })
    }

    @Test("broadcast from every root", arguments: sizes)
    func broadcast(size: Int) throws {
        for root in 0..<size {
            let results = try LocalCommunicator.run(size: size) { comm -> [Double] in
                var v = [Double(comm.rank), Double(comm.rank) * 0.5]
                try comm.broadcast(&v, root: root)
                return v
            }
            #expect(results.allSatisfy { $0 == [Double(root), Double(root) * 0.5] })
        }
    }

    @Test("allgather and allgatherv place blocks in rank order", arguments: sizes)
    func allgather(size: Int) throws {
        let results = try LocalCommunicator.run(size: size) { comm -> ([Int64], [[Float]], [String]) in
            let even = try comm.allgather([Int64(comm.rank), Int64(comm.rank * comm.rank)])
            let ragged = try comm.allgatherv((0..<comm.rank).map { Float($0) + 0.25 })
            let strings = try comm.allgatherStrings("rank \(comm.rank) ✓")
            return (even, ragged, strings)
        }
        let expectedEven: [Int64] = (0..<size).flatMap { r -> [Int64] in [Int64(r), Int64(r * r)] }
        let expectedRagged: [[Float]] = (0..<size).map { r in (0..<r).map { Float($0) + 0.25 } }
        let expectedStrings: [String] = (0..<size).map { "rank \($0) ✓" }
        for (even, ragged, strings) in results {
            #expect(even == expectedEven)
            #expect(ragged == expectedRagged)
            #expect(strings == expectedStrings)
        }
    }

    @Test("sendrecv around a ring in both directions", arguments: sizes)
    func sendrecv(size: Int) throws {
        let results = try LocalCommunicator.run(size: size) { comm -> [Int64] in
            let r = comm.rank
            let next = (r + 1) % size
            let previous = (r + size - 1) % size
            let forward: [Int64] = [Int64(r), 1]
            let backward: [Int64] = [Int64(r), 2]
            var fromPrevious: [Int64] = [0, 0]
            var fromNext: [Int64] = [0, 0]
            try forward.withUnsafeBufferPointer { s in
                try fromPrevious.withUnsafeMutableBufferPointer {
                    try comm.sendrecv(s, to: next, into: $0, from: previous, tag: 1)
                }
            }
            try backward.withUnsafeBufferPointer { s in
                try fromNext.withUnsafeMutableBufferPointer {
                    try comm.sendrecv(s, to: previous, into: $0, from: next, tag: 2)
                }
            }
            try comm.barrier()
            return fromPrevious + fromNext
        }
        for (r, got) in results.enumerated() {
            #expect(got == [Int64((r + size - 1) % size), 1, Int64((r + 1) % size), 2])
        }
    }

    @Test("exchange along a graph: every rank sends to all others, two tags each", arguments: sizes)
    func exchange(size: Int) throws {
        // A message from s to r with tag t has 1 + t + (2s + r) mod 3 values, all 100s + 10r + t.
        func count(_ s: Int, _ r: Int, _ t: Int) -> Int { 1 + t + (2 * s + r) % 3 }
        func routes(_ r: Int) -> [(peer: Int, tag: Int)] {
            (0..<size).filter { $0 != r }.flatMap { peer in [0, 1].map { (peer: peer, tag: $0) } }
        }
        let results = try LocalCommunicator.run(size: size) { comm -> [Float] in
            let me = comm.rank
            let outgoing: [Float] = routes(me).flatMap {
                [Float](repeating: Float(me * 100 + $0.peer * 10 + $0.tag), count: count(me, $0.peer, $0.tag))
            }
            var incoming = [Float](repeating: -1, count: routes(me).map { count($0.peer, me, $0.tag) }.reduce(0, +))
            try outgoing.withUnsafeBufferPointer { out in
                try incoming.withUnsafeMutableBufferPointer { inc in
                    var sends: [OutgoingMessage<Float>] = []
                    var receives: [IncomingMessage<Float>] = []
                    var o = 0
                    var i = 0
                    for route in routes(me) {
                        let n = count(me, route.peer, route.tag)
                        let m = count(route.peer, me, route.tag)
                        sends.append(
                            OutgoingMessage(
                                to: route.peer, tag: route.tag, values: UnsafeBufferPointer(rebasing: out[o..<o + n])))
                        receives.append(
                            IncomingMessage(
                                from: route.peer, tag: route.tag,
                                into: UnsafeMutableBufferPointer(rebasing: inc[i..<i + m])))
                        o += n
                        i += m
                    }
                    try comm.exchange(sends: sends, receives: receives)
                }
            }
            return incoming
        }
        for (r, incoming) in results.enumerated() {
            let expected: [Float] = routes(r).flatMap {
                [Float](repeating: Float($0.peer * 100 + r * 10 + $0.tag), count: count($0.peer, r, $0.tag))
            }
            #expect(incoming == expected)
        }
    }

    @Test("collectives called in different orders are reported as a mismatch")
    func mismatch() throws {
        let outcomes = try LocalCommunicator.run(size: 2, timeout: 10) { comm -> String in
            do {
                if comm.rank == 0 {
                    var v: [Float] = [1]
                    try comm.allreduce(&v, op: .sum)
                } else {
                    try comm.barrier()
                }
                return "no error"
            } catch let error as CommunicatorError {
                return error.description
            }
        }
        for text in outcomes {
            #expect(text.contains("mismatched collective"))
            #expect(text.contains("rank 0: allreduce(sum, float32, count 1)"))
            #expect(text.contains("rank 1: barrier"))
        }
    }

    @Test("a rank that never arrives gives a timeout naming it, not a hang")
    func timeout() throws {
        let outcomes = try LocalCommunicator.run(size: 3, timeout: 0.5) { comm -> String in
            if comm.rank == 2 { return "skipped" }
            do {
                try comm.barrier()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcomes[0].contains("timed out"))
        #expect(outcomes[0].contains("ranks [2] never entered it"))
        #expect(outcomes[1].contains("timed out"))
    }

    @Test("a receive with no sender times out")
    func receiveTimeout() throws {
        let outcomes = try LocalCommunicator.run(size: 2, timeout: 0.3) { comm -> String in
            guard comm.rank == 0 else { return "idle" }
            let sent: [Float] = [1]
            var received: [Float] = [0]
            do {
                try sent.withUnsafeBufferPointer { s in
                    try received.withUnsafeMutableBufferPointer {
                        try comm.sendrecv(s, to: 1, into: $0, from: 1, tag: 9)
                    }
                }
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcomes[0].contains("waited 0 s for a message from rank 1 with tag 9"))
    }

    @Test("bad arguments are rejected")
    func badArguments() throws {
        let comm = LocalCommunicator.makeWorld(size: 1)[0]
        var v: [Float] = [1]
        #expect(throws: CommunicatorError.self) { try comm.broadcast(&v, root: 1) }
        let sent: [Float] = [1, 2]
        var tooSmall = [Float](repeating: 0, count: 1)
        #expect(throws: CommunicatorError.self) {
            try sent.withUnsafeBufferPointer { s in
                try tooSmall.withUnsafeMutableBufferPointer { try comm.allgather(s, into: $0) }
            }
        }
    }
}
