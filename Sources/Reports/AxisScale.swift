import Foundation

/// One axis of a chart: the data range mapped onto a pixel range, linear or logarithmic, with
/// "nice" ticks.
///
/// Linear ticks follow Heckbert's nice numbers ("Nice numbers for graph labels", Graphics Gems,
/// 1990): the step is 1, 2 or 5 × 10^k, the largest that gives at least `targetTicks` − 1
/// intervals over the range, and the domain is widened to whole steps (or, `tight`, kept to the
/// data with the ticks inside it). Logarithmic axes put
/// ticks at 1, 2 and 5 × 10^k while the range spans fewer than four decades, else at the powers
/// of ten alone, and map value v to log10(v).
public struct AxisScale: Sendable {
    public let lower: Double
    public let upper: Double
    public let logarithmic: Bool
    public let ticks: [Double]
    /// Pixel position of `lower` and of `upper` (upper may be the smaller number, as on a y axis).
    public let pixelLower: Double
    public let pixelUpper: Double

    /// - Parameters:
    ///   - values: the data (non-finite values, and on a log axis values ≤ 0, are ignored).
    ///   - pixels: where the lowest and the highest value go.
    ///   - logarithmic: a log10 axis.
    ///   - includeZero: widen a linear range to contain 0.
    ///   - targetTicks: about how many ticks to show.
    public init(
        values: [Double], pixels: (Double, Double), logarithmic: Bool = false, includeZero: Bool = false,
        tight: Bool = false, targetTicks: Int = 6
    ) {
        self.logarithmic = logarithmic
        pixelLower = pixels.0
        pixelUpper = pixels.1
        let usable = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }
        var low = usable.min() ?? (logarithmic ? 0.1 : 0)
        var high = usable.max() ?? (logarithmic ? 10 : 1)
        if includeZero && !logarithmic {
            low = min(low, 0)
            high = max(high, 0)
        }
        if logarithmic {
            var decadeLow = floor(log10(low))
            var decadeHigh = ceil(log10(high))
            if decadeHigh <= decadeLow {
                decadeLow -= 1
                decadeHigh += 1
            }
            let mantissas: [Double] = decadeHigh - decadeLow < 4 ? [1, 2, 5] : [1]
            var ticks: [Double] = []
            for decade in Int(decadeLow)...Int(decadeHigh) {
                for m in mantissas {
                    let tick = m * pow(10, Double(decade))
                    if tick >= pow(10, decadeLow) * 0.999 && tick <= pow(10, decadeHigh) * 1.001 { ticks.append(tick) }
                }
            }
            lower = pow(10, decadeLow)
            upper = pow(10, decadeHigh)
            self.ticks = ticks
        } else {
            if high - low <= abs(high) * 1e-12 || high == low {
                let pad = high == 0 ? 1 : abs(high) * 0.05
                low -= pad
                high += pad
            }
            let step = Self.niceStep((high - low) / Double(max(targetTicks - 1, 1)))
            let first = tight ? ceil(low / step - 1e-9) * step : floor(low / step) * step
            let last = tight ? floor(high / step + 1e-9) * step : ceil(high / step) * step
            let count = Int(((last - first) / step).rounded())
            lower = tight ? low : first
            upper = tight ? high : last
            ticks = count >= 0 ? (0...count).map { first + Double($0) * step } : []
        }
    }

    /// The smallest of 1, 2, 5 × 10^k that is at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, floor(log10(raw)))
        let normalized = raw / magnitude
        let nice: Double = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// Pixel position of `value`.
    public func pixel(_ value: Double) -> Double {
        let t: Double
        if logarithmic {
            t = (log10(max(value, lower * 1e-3)) - log10(lower)) / (log10(upper) - log10(lower))
        } else {
            t = (value - lower) / (upper - lower)
        }
        return pixelLower + t * (pixelUpper - pixelLower)
    }

    /// Whether `value` can be drawn on this axis.
    public func accepts(_ value: Double) -> Bool {
        value.isFinite && (!logarithmic || value > 0)
    }

    /// A tick label: at most four significant digits, thousands (from 1000) as k and millions as M.
    public static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 && magnitude < 1e12 { return trimmed(value / 1e6) + "M" }
        if magnitude >= 1e3 && magnitude < 1e6 { return trimmed(value / 1e3) + "k" }
        if magnitude < 1e-3 || magnitude >= 1e12 {
            // 1e-4, 2.5e-7: the mantissa without trailing zeros, the exponent without padding.
            let exponent = Int(floor(log10(magnitude)))
            return trimmed(value / pow(10, Double(exponent))) + "e\(exponent)"
        }
        return trimmed(value)
    }

    private static func trimmed(_ value: Double) -> String {
        var text = String(format: "%.4g", value)
        if text.contains(".") && !text.contains("e") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
