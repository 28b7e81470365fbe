import Foundation
import Kernels

/// An exact, order-independent sum of float buffers over ranks: the same bits on any number of
/// ranks and for any assignment of contributions to ranks.
///
/// Float addition is not associative, so a plain `MPI_SUM` of floats depends on how values are
/// split over ranks and on the reduction tree. Here every contribution is turned into 64-bit fixed
/// point against one shared scale and integers (whose addition is associative) are summed:
///
/// 1. One max-allreduce of `[max |x|, NaN seen, +inf seen, −inf seen, −(first bad index), 1 + rank
///    with bad arguments, n, −n]` over every element of every contribution. A non-finite value
///    anywhere throws `NonFiniteError` on every rank; bad arguments on any rank (a contribution
///    whose length is not the result's, too many contributions, or results of different lengths
///    on different ranks) throw `CommunicatorError.invalidArgument` on every rank. The arguments are
///    agreed on in this first collective, so no rank is left waiting in a later one.
/// 2. With `M = max |x| = f · 2^E`, `0.5 ≤ f < 1`, each value becomes
///    `q = round(x · 2^(B − E))`, `B = 62 − headroomBits`, so `|q| ≤ 2^B` and up to
///    `2^headroomBits` contributions add without overflow. Scaling by a power of two is exact;
///    rounding is to nearest, ties to even.
/// 3. Each rank adds its contributions' integers, an `Int64` sum-allreduce adds the ranks', and
///    `S = Σq · 2^(E − B)` is converted back to `Float`.
///
/// The result differs from the float64 sum by at most `count · 2^(E−B−1)` (one half-unit of the
/// fixed-point grid per contribution) before the final rounding to `Float`, i.e. about
/// `count · M · 2^−39`: far inside `1e−6 · M`.
public enum ReproducibleAllreduce {
    /// Bits of head room above the largest value: up to 2^24 (16.7 million) contributions in all.
    public static let headroomBits = 24
    /// Fixed-point bits for the largest magnitude.
    static let valueBits = 62 - headroomBits

    /// Raised when any contribution on any rank holds NaN or ±∞.
    public struct NonFiniteError: Error, CustomStringConvertible, Equatable {
        public let hasNaN: Bool
        public let hasPositiveInfinity: Bool
        public let hasNegativeInfinity: Bool
        /// The lowest element index holding a non-finite value, over all contributions and ranks.
        public let firstIndex: Int

        public init(hasNaN: Bool, hasPositiveInfinity: Bool, hasNegativeInfinity: Bool, firstIndex: Int) {
            self.hasNaN = hasNaN
            self.hasPositiveInfinity = hasPositiveInfinity
            self.hasNegativeInfinity = hasNegativeInfinity
            self.firstIndex = firstIndex
        }

        public var description: String {
            var kinds: [String] = []
            if hasNaN { kinds.append("NaN") }
            if hasPositiveInfinity { kinds.append("+inf") }
            if hasNegativeInfinity { kinds.append("-inf") }
            return
                "reproducible allreduce refused non-finite input (\(kinds.joined(separator: ", "))), first at element \(firstIndex)"
        }
    }

    /// Sums `contributions` (this rank's share; each the same count as `result`) over all ranks
    /// into `result`, identically on every rank.
    ///
    /// - Parameters:
    ///   - contributions: buffers this rank adds, for example one gradient per island it hosts;
    ///     may be empty on a rank that hosts none.
    ///   - result: receives the global sum; may alias one of the contributions.
    ///   - communicator: every rank must call with the same `result.count`.
    /// - Throws: on every rank alike, `CommunicatorError.invalidArgument` if any rank's arguments are
    ///   bad (contribution lengths, their number, or `result.count` differing between ranks) and
    ///   `NonFiniteError` if any value anywhere is NaN or infinite; `CommunicatorError` from the
    ///   communicator.
    public static func sum(
        _ contributions: [UnsafeBufferPointer<Float>], into result: UnsafeMutableBufferPointer<Float>,
        communicator: any Communicator, scratch: Scratch? = nil
    ) throws {
        let n = result.count
        var problem: String?
        if let wrong = contributions.first(where: { $0.count != n }) {
            problem = "a contribution has \(wrong.count) elements, the result \(n)"
        } else if contributions.count > 1 << headroomBits {
            problem = "\(contributions.count) contributions, more than 2^\(headroomBits)"
        }

        // 1. Arguments, shared scale and non-finite detection in one max-allreduce.
        var summary = problem == nil ? localSummary(contributions, count: n) : [0, 0, 0, 0, -Double(Int32.max)]
        summary += [problem == nil ? 0 : Double(communicator.rank + 1), Double(n), -Double(n)]
        try communicator.allreduce(&summary, op: .max)
        if summary[5] > 0 {
            // Every rank throws; a rank at fault names its own problem, the others the (last) rank at fault.
            let message =
                problem.map { "rank \(communicator.rank): \($0)" } ?? "rank \(Int(summary[5]) - 1) passed bad arguments"
            throw CommunicatorError.invalidArgument("reproducible allreduce refused its arguments: " + message)
        }
        guard summary[6] == -summary[7] else {
            throw CommunicatorError.invalidArgument(
                "reproducible allreduce refused its arguments: the ranks' results have \(Int(-summary[7])) to \(Int(summary[6])) elements (this rank's \(n))"
            )
        }
        if summary[1] > 0 || summary[2] > 0 || summary[3] > 0 {
            throw NonFiniteError(
                hasNaN: summary[1] > 0, hasPositiveInfinity: summary[2] > 0, hasNegativeInfinity: summary[3] > 0,
                firstIndex: Int(-summary[4]))
        }
        let maxAbs = summary[0]
        if maxAbs == 0 {
            for i in 0..<n { result[i] = 0 }
            return
        }

        // 2. Fixed point: q = round(x · 2^(B − E)).
        let exponent = Int(Double(maxAbs).exponent) + 1  // maxAbs < 2^exponent
        let toFixed = Double(sign: .plus, exponent: valueBits - exponent, significand: 1)
        let fromFixed = Double(sign: .plus, exponent: exponent - valueBits, significand: 1)
        let buffer = scratch ?? Scratch()
        buffer.reserve(n)
        let q = UnsafeMutableBufferPointer(start: buffer.pointer, count: n)
        q.update(repeating: 0)
        for c in contributions {
            for i in 0..<n {
                q[i] &+= roundToInteger(Double(c[i]) * toFixed)
            }
        }

        // 3. Integer sum over ranks, then back to Float.
        try communicator.allreduce(q, op: .sum)
        for i in 0..<n {
            result[i] = Float(Double(q[i]) * fromFixed)
        }
    }

    /// Reusable room for the fixed-point integers, so repeated sums of large buffers do not map
    /// fresh (page-faulting) memory on every call. Use one per thread.
    public typealias Scratch = ScratchBuffer<Int64>

    /// `sum` for one contribution per rank, in place.
    public static func sum(
        _ buffer: UnsafeMutableBufferPointer<Float>, communicator: any Communicator, scratch: Scratch? = nil
    ) throws {
        try sum([UnsafeBufferPointer(buffer)], into: buffer, communicator: communicator, scratch: scratch)
    }

    /// `sum` for one contribution per rank, on an array in place.
    public static func sum(_ values: inout [Float], communicator: any Communicator, scratch: Scratch? = nil) throws {
        try values.withUnsafeMutableBufferPointer { try sum($0, communicator: communicator, scratch: scratch) }
    }

    /// `round(v)`, ties to even, for `|v| < 2^51`, without libm: adding `1.5 · 2^52` leaves a double
    /// whose last place is 1, so IEEE addition itself rounds `v`; the integer is read off the bits.
    @inline(__always)
    static func roundToInteger(_ v: Double) -> Int64 {
        let shifted = v + 6_755_399_441_055_744.0
        return Int64(bitPattern: shifted.bitPattern) &- 0x4338_0000_0000_0000
    }

    /// `[max |x|, NaN?, +inf?, −inf?, −(first non-finite index)]` over this rank's contributions.
    ///
    /// The fast pass takes the maximum of `|x|`'s bit pattern (for non-negative floats, bit order is
    /// magnitude order, and ±∞ and NaN lie above every finite value); only if that exceeds the
    /// largest finite float does a second pass find what and where.
    private static func localSummary(_ contributions: [UnsafeBufferPointer<Float>], count n: Int) -> [Double] {
        var maxBits: UInt32 = 0
        for c in contributions {
            c.withMemoryRebound(to: UInt32.self) { bits in
                for i in 0..<n { maxBits = max(maxBits, bits[i] & 0x7FFF_FFFF) }
            }
        }
        if maxBits < Float.infinity.bitPattern {
            return [Double(Float(bitPattern: maxBits)), 0, 0, 0, -Double(Int32.max)]
        }
        var nan = false
        var positiveInfinity = false
        var negativeInfinity = false
        var firstBad = Int.max
        for c in contributions {
            for i in 0..<n where !c[i].isFinite {
                if c[i].isNaN {
                    nan = true
                } else if c[i] > 0 {
                    positiveInfinity = true
                } else {
                    negativeInfinity = true
                }
                firstBad = min(firstBad, i)
            }
        }
        return [0, nan ? 1 : 0, positiveInfinity ? 1 : 0, negativeInfinity ? 1 : 0, -Double(firstBad)]
    }
}
