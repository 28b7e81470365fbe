import Collectives
import Foundation
import Kernels
import Testing

/// The reproducible sum gives the same bits whatever the rank count and whatever rank holds which
/// contribution, stays within 1e−6·max|x| of the float64 sum, and refuses non-finite input.
@Suite("ReproducibleAllreduce")
struct ReproducibleAllreduceTests {
    /// Sixteen contributions spanning six orders of magnitude, half of them nearly cancelling.
    static func contributions(count: Int = 16, length: Int = 257) -> [[Float]] {
        (0 ..< count).map { c in
            var stream = RandomStream(seed: 7, island: c, purpose: "test-contribution")
            let scale = Float([1e-3, 1, 1e3, 1e-1][c % 4])
            return (0 ..< length).map { _ in scale * Float(stream.gaussian()) }
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
        let forward = (0 ..< all[0].count).map { i in all.reduce(Float(0)) { $0 + $1[i] } }
        let backward = (0 ..< all[0].count).map { i in all.reversed().reduce(Float(0)) { $0 + $1[i] } }
        #expect(Self.bits(forward) != Self.bits(backward))
    }

    @Test("within 1e-6 of the float64 sum, relative to the largest element")
    func errorBound() throws {
        let all = Self.contributions()
        let sum = try Self.reproducibleSum(all, ranks: 3, shuffleSeed: 4)
        let maxAbs = all.joined().map { abs(Double($0)) }.max()!
        for i in sum.indices {
            let exact = all.reduce(0.0) { $0 + Double($1[i]) }
            #expect(abs(Double(sum[i]) - exact) <= 1e-6 * maxAbs, "element \(i)")
        }
    }

    @Test("zeros sum to zeros and exact cancellation gives exact zeros")
    func zerosAndCancellation() throws {
        let zeros = try Self.reproducibleSum([[Float](repeating: 0, count: 5), [Float](repeating: 0, count: 5)], ranks: 2, shuffleSeed: 1)
        #expect(zeros == [0, 0, 0, 0, 0])
        let values: [Float] = [3.5, -1e30, 1e-30, 7, -0.125]
        let cancel = try Self.reproducibleSum([values, values.map { -$0 }], ranks: 2, shuffleSeed: 1)
        #expect(cancel.allSatisfy { $0 == 0 })
        // Tiny values next to huge ones: the huge ones cancel, the tiny sum survives to 1e-6·max.
        let mixed = try Self.reproducibleSum([[1e6, 1], [-1e6, 2], [0.5, 3]], ranks: 3, shuffleSeed: 2)
        #expect(abs(mixed[0] - 0.5) <= 1e-6 * 1e6)
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
                try result.withUnsafeMutableBufferPointer { try ReproducibleAllreduce.sum(views, into: $0, communicator: comm) }
            }
            return result
        }
        #expect(results.allSatisfy { $0 == [1.5, -2] })
    }
}
