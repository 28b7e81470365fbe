import Collectives
import Foundation
import Kernels
import Testing

/// The reproducible sum gives the same bits whatever the rank count and whatever rank holds which
/// contribution, stays within its documented error bound of the float64 sum, and refuses
/// non-finite input and bad arguments on every rank alike.
@Suite("ReproducibleAllreduce")
struct ReproducibleAllreduceTests {
    /// Sixteen contributions spanning six orders of magnitude, half of them nearly cancelling.
    static func contributions(count: Int = 16, length: Int = 257) -> [[Float]] {
        (0..<count).map { c in
            var stream = RandomStream(seed: 7, island: c, purpose: "test-contribution")
            let scale = Float([1e-3, 1, 1e3, 1e-1][c % 4])
            return (0..<length).map { _ in scale * Float(stream.gaussian()) }
        }.enumerated().map { c, values in
            c % 2 == 1 && c >= 8 ? values.map { -$0 * 0.999 } : values
        }
    }

    /// Sums `all` over `size` ranks of a `LocalCommunicator`, the contributions dealt out by a
    /// permutation drawn from `shuffleSeed`.
    static func reproducibleSum(_ all: [[Float]], ranks size: Int, shuffleSeed: UInt64) throws -> [Float] {
        var order = Array(all.indices)
        var stream = RandomStream(seed: shuffleSeed, purpose: "assignment")
        stream.shuffle(&order)
        let assignment = order
        let length = all[0].count
        let results = try LocalCommunicator.run(size: size) { comm -> [Float] in
            let mine = assignment.enumerated().filter { $0.offset % size == comm.rank }.map { all[$0.element] }
            var result = [Float](repeating: .nan, count: length)
            try withBufferViews(mine) { views in
                try result.withUnsafeMutableBufferPointer {
                    try ReproducibleAllreduce.sum(views, into: $0, communicator: comm)
                }
            }
            return result
        }
        for r in results.dropFirst() { #expect(bits(r) == bits(results[0]), "ranks disagree") }
        return results[0]
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    @Test("same bits for 1, 2, 3, 4 and 8 ranks and shuffled assignments")
    func sameBits() throws {
        let all = Self.contributions()
        let reference = try Self.reproducibleSum(all, ranks: 1, shuffleSeed: 0)
        for size in [1, 2, 3, 4, 8] {
            for seed: UInt64 in [1, 2, 3] {
                let sum = try Self.reproducibleSum(all, ranks: size, shuffleSeed: seed)
                #expect(Self.bits(sum) == Self.bits(reference), "\(size) ranks, shuffle \(seed)")
            }
        }
        // A plain float sum in another order does change bits for these inputs: the test has teeth.
        let forward = (0..<all[0].count).map { i in all.reduce(Float(0)) { $0 + $1[i] } }
        let backward = (0..<all[0].count).map { i in all.reversed().reduce(Float(0)) { $0 + $1[i] } }
        #expect(Self.bits(forward) != Self.bits(backward))
    }

    /// The documented bound: `count · 2^(E−B−1)` (half a unit of the fixed-point grid per
    /// contribution, `M = max|x| < 2^E`, `B = 62 − headroomBits`) before the final rounding to
    /// Float, which adds at most half an ulp of the result (and the Int64 → Double conversion
    /// before it, at most 2^−53 relative).
    static func errorBound(contributions count: Int, maxAbs: Double, sum: Double) -> Double {
        let E = Int(maxAbs.exponent) + 1
        let B = 62 - ReproducibleAllreduce.headroomBits
        return Double(count) * Double(sign: .plus, exponent: E - B - 1, significand: 1) + Double(Float(sum).ulp) / 2
            + abs(sum) * 0x1p-52
    }

    @Test("within count · 2^(E−B−1) plus the final rounding of the float64 sum")
    func errorBound() throws {
        let all = Self.contributions()
        let sum = try Self.reproducibleSum(all, ranks: 3, shuffleSeed: 4)
        let maxAbs = all.joined().map { abs(Double($0)) }.max()!
        for i in sum.indices {
            let exact = all.reduce(0.0) { $0 + Double($1[i]) }
            let bound = Self.errorBound(contributions: all.count, maxAbs: maxAbs, sum: exact)
            #expect(
                abs(Double(sum[i]) - exact) <= bound,
                "element \(i): error \(abs(Double(sum[i]) - exact)), bound \(bound)")
        }
    }

    @Test("zeros sum to zeros and exact cancellation gives exact zeros")
    func zerosAndCancellation() throws {
        let zeros = try Self.reproducibleSum(
            [[Float](repeating: 0, count: 5), [Float](repeating: 0, count: 5)], ranks: 2, shuffleSeed: 1)
        #expect(zeros == [0, 0, 0, 0, 0])
        let values: [Float] = [3.5, -1e30, 1e-30, 7, -0.125]
        let cancel = try Self.reproducibleSum([values, values.map { -$0 }], ranks: 2, shuffleSeed: 1)
        #expect(cancel.allSatisfy { $0 == 0 })
        // Small values next to huge ones: the huge ones cancel and the small one survives within
        // the documented bound (3 · 2^(20−38−1) ≈ 5.7e−6 for max 1e6 < 2^20, plus half an ulp of
        // 0.3), where a float sum in the order (1e6 + 0.3) − 1e6 loses 0.0125 of it.
        let mixed = try Self.reproducibleSum([[1e6, 1], [0.3, 2], [-1e6, 3]], ranks: 3, shuffleSeed: 2)
        let bound = Self.errorBound(contributions: 3, maxAbs: 1e6, sum: Double(Float(0.3)))
        #expect(bound < 1e-5)
        #expect(
            abs(Double(mixed[0]) - Double(Float(0.3))) <= bound, "error \(abs(Double(mixed[0]) - Double(Float(0.3))))")
        let large: Float = 1e6
        let small: Float = 0.3
        #expect(
            abs(Double((large + small) - large) - Double(small)) > bound,
            "the float sum loses more: the bound has teeth")
        #expect(mixed[1] == 6)
    }

    @Test("NaN and infinities are reported on every rank with the first bad index")
    func nonFinite() throws {
        let outcomes = try LocalCommunicator.run(size: 2) { comm -> ReproducibleAllreduce.NonFiniteError? in
            var values: [Float] = comm.rank == 0 ? [1, 2, .infinity, 4] : [1, .nan, 3, -.infinity]
            do {
                try ReproducibleAllreduce.sum(&values, communicator: comm)
                return nil
            } catch let error as ReproducibleAllreduce.NonFiniteError {
                return error
            }
        }
        let expected = ReproducibleAllreduce.NonFiniteError(
            hasNaN: true, hasPositiveInfinity: true, hasNegativeInfinity: true, firstIndex: 1)
        #expect(outcomes == [expected, expected])
        #expect(expected.description.contains("NaN, +inf, -inf"))
    }

    @Test("a rank with no contributions still takes part")
    func emptyRank() throws {
        let results = try LocalCommunicator.run(size: 3) { comm -> [Float] in
            var result = [Float](repeating: 9, count: 2)
            let mine: [[Float]] = comm.rank == 1 ? [[1.5, -2]] : []
            try withBufferViews(mine) { views in
                try result.withUnsafeMutableBufferPointer {
                    try ReproducibleAllreduce.sum(views, into: $0, communicator: comm)
                }
            }
            return result
        }
        #expect(results.allSatisfy { $0 == [1.5, -2] })
    }

    @Test("bad arguments on one rank fail on every rank, and no rank is left waiting")
    func badArgumentsOnOneRank() throws {
        // Before the arguments were agreed in the first collective, the other ranks waited in it
        // until the timeout; a 20 s timeout turns such a wait into a "timed out" error here.
        let outcomes = try LocalCommunicator.run(size: 3, timeout: 20) { comm -> [String] in
            var messages: [String] = []
            // rank 1 passes a contribution shorter than the result
            let mine: [[Float]] = comm.rank == 1 ? [[1, 2]] : [[1, 2, 3]]
            var result = [Float](repeating: 0, count: 3)
            do {
                try withBufferViews(mine) { views in
                    try result.withUnsafeMutableBufferPointer {
                        try ReproducibleAllreduce.sum(views, into: $0, communicator: comm)
                    }
                }
                messages.append("no error")
            } catch let error as CommunicatorError {
                messages.append(error.description)
            }
            // rank 2 asks for a result of another length
            var values = [Float](repeating: 1, count: comm.rank == 2 ? 4 : 3)
            do {
                try ReproducibleAllreduce.sum(&values, communicator: comm)
                messages.append("no error")
            } catch let error as CommunicatorError {
                messages.append(error.description)
            }
            // and the communicator still works afterwards
            var ok: [Float] = [Float(comm.rank)]
            try ReproducibleAllreduce.sum(&ok, communicator: comm)
            messages.append("\(ok[0])")
            return messages
        }
        for (rank, messages) in outcomes.enumerated() {
            #expect(messages.count == 3)
            #expect(!messages.joined().contains("timed out"), "rank \(rank): \(messages)")
            #expect(
                messages[0].hasPrefix("invalid argument: reproducible allreduce refused its arguments"),
                "rank \(rank): \(messages[0])")
            #expect(
                messages[0].contains(
                    rank == 1 ? "rank 1: a contribution has 2 elements, the result 3" : "rank 1 passed bad arguments"))
            #expect(messages[1].contains("results have 3 to 4 elements"), "rank \(rank): \(messages[1])")
            #expect(messages[2] == "3.0")
        }
    }
}
