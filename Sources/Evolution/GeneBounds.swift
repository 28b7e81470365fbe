/// Box constraints `low[j] ≤ x[j] ≤ high[j]` on genes, and how a gene that leaves them comes back.
public struct GeneBounds: Codable, Equatable, Sendable {
    /// What happens to a gene outside `[low, high]`.
    public enum Handling: String, Codable, CaseIterable, Sendable {
        /// `x ← min(max(x, low), high)`.
        case clip
        /// Mirror at the violated bound, repeatedly: with `w = high − low` and
        /// `y = (x − low) mod 2w ∈ [0, 2w)`, `x ← low + (y ≤ w ? y : 2w − y)` — the walk of a ball
        /// between two walls, so a gene far outside still lands inside.
        case reflect
    }

    /// `[D]` lower bounds, or one value for every gene.
    public var low: [Float]
    /// `[D]` upper bounds, or one value for every gene.
    public var high: [Float]
    public var handling: Handling

    /// The same interval for every gene.
    public init(low: Float, high: Float, handling: Handling) {
        precondition(low < high, "bounds need low < high")
        self.low = [low]
        self.high = [high]
        self.handling = handling
    }

    /// One interval per gene.
    public init(low: [Float], high: [Float], handling: Handling) {
        precondition(low.count == high.count && !low.isEmpty, "bounds need as many low as high values")
        precondition(zip(low, high).allSatisfy { $0 < $1 }, "bounds need low < high for every gene")
        self.low = low
        self.high = high
        self.handling = handling
    }

    /// Brings every gene of `row` inside the bounds.
    public func apply(to row: UnsafeMutableBufferPointer<Float>) {
        precondition(
            low.count == 1 || low.count == row.count, "bounds are for \(low.count) genes, the row has \(row.count)")
        apply(to: row, firstGene: 0)
    }

    /// Brings genes `firstGene ..< firstGene + part.count` of a row, held in `part`, inside the
    /// bounds.
    func apply(to part: UnsafeMutableBufferPointer<Float>, firstGene: Int) {
        if low.count == 1 {
            let lo = low[0]
            let hi = high[0]
            switch handling {
            case .clip:
                for j in part.indices { part[j] = Swift.min(Swift.max(part[j], lo), hi) }
            case .reflect:
                for j in part.indices where part[j] < lo || part[j] > hi { part[j] = Self.reflect(part[j], lo, hi) }
            }
        } else {
            switch handling {
            case .clip:
                for j in part.indices {
                    part[j] = Swift.min(Swift.max(part[j], low[firstGene + j]), high[firstGene + j])
                }
            case .reflect:
                for j in part.indices where part[j] < low[firstGene + j] || part[j] > high[firstGene + j] {
                    part[j] = Self.reflect(part[j], low[firstGene + j], high[firstGene + j])
                }
            }
        }
    }

    /// `x` mirrored into `[lo, hi]`; computed in Double so the result cannot round outside.
    static func reflect(_ x: Float, _ lo: Float, _ hi: Float) -> Float {
        guard x.isFinite else { return x.isNaN ? lo : (x > 0 ? hi : lo) }
        let width = Double(hi) - Double(lo)
        var y = (Double(x) - Double(lo)).truncatingRemainder(dividingBy: 2 * width)
        if y < 0 { y += 2 * width }
        let inside = y <= width ? y : 2 * width - y
        return Swift.min(Swift.max(Float(Double(lo) + inside), lo), hi)
    }
}
