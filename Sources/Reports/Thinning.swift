/// A point of a chart's line, in data units.
public struct ChartPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// Fewer points for long lines, keeping their envelope.
///
/// A line of n > `limit` points is cut into `limit / 2` runs of consecutive points; each run
/// keeps its lowest and its highest point, in their original order. Every spike and dip of the
/// original survives, so the thinned line covers the same band of values; the first and the last
/// point are always kept. A line of at most `limit` points is returned unchanged.
public enum Thinning {
    public static func thinned(_ points: [ChartPoint], limit: Int) -> [ChartPoint] {
        precondition(limit >= 4, "limit must be at least 4")
        guard points.count > limit else { return points }
        let buckets = (limit - 2) / 2
        var result = [points[0]]
        result.reserveCapacity(limit)
        let inner = points.count - 2
        for b in 0..<buckets {
            let start = 1 + b * inner / buckets
            let end = 1 + (b + 1) * inner / buckets
            guard start < end else { continue }
            var low = start
            var high = start
            for i in start..<end {
                if points[i].y < points[low].y { low = i }
                if points[i].y > points[high].y { high = i }
            }
            result.append(points[min(low, high)])
            if low != high { result.append(points[max(low, high)]) }
        }
        result.append(points[points.count - 1])
        return result
    }
}
