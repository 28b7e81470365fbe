import Foundation

/// Horizontal stacked bars as inline SVG: one bar per category (a rank), split into parts (where
/// its time went), on a shared axis with ticks; each segment is labelled with its share of the bar
/// when it is wide enough, and carries its value and share as a tooltip.
public struct StackedBarChart {
    public var title: String
    /// The axis' quantity and unit, e.g. "seconds".
    public var valueLabel: String
    public var parts: [(name: String, colour: String)]
    /// One row per category: its name and one value per part.
    public var bars: [(name: String, values: [Double])]
    public var width = 760.0

    public init(
        title: String, valueLabel: String, parts: [(name: String, colour: String)],
        bars: [(name: String, values: [Double])]
    ) {
        self.title = title
        self.valueLabel = valueLabel
        self.parts = parts
        self.bars = bars
    }

    public func html() -> String {
        let left = 64.0
        let right = 16.0
        let top = 28.0
        let barHeight = 22.0
        let gap = 8.0
        let bottom = 44.0
        let height = top + Double(bars.count) * (barHeight + gap) + bottom
        let totals = bars.map { $0.values.reduce(0, +) }
        let axis = AxisScale(values: [0] + totals, pixels: (left, width - right), includeZero: true)
        let f = { (v: Double) in String(format: "%.1f", v) }
        var svg =
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">\n"
        svg +=
            "<text x=\"\(f(left))\" y=\"17\" font-size=\"14\" font-weight=\"600\" fill=\"#1d2430\">\(HTML.escape(title))</text>\n"
        let plotBottom = height - bottom
        for tick in axis.ticks {
            let px = f(axis.pixel(tick))
            svg += "<line x1=\"\(px)\" y1=\"\(f(top))\" x2=\"\(px)\" y2=\"\(f(plotBottom + 4))\" stroke=\"#e3e7ee\"/>"
            svg +=
                "<text x=\"\(px)\" y=\"\(f(plotBottom + 17))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#4a5568\">\(AxisScale.label(tick))</text>\n"
        }
        for (row, bar) in bars.enumerated() {
            let y = top + Double(row) * (barHeight + gap) + gap / 2
            svg +=
                "<text x=\"\(f(left - 7))\" y=\"\(f(y + barHeight / 2))\" dy=\"4\" font-size=\"12\" text-anchor=\"end\" fill=\"#1d2430\">\(HTML.escape(bar.name))</text>\n"
            var start = 0.0
            for (k, value) in bar.values.enumerated() where value > 0 {
                let x0 = axis.pixel(start)
                let x1 = axis.pixel(start + value)
                let share = totals[row] > 0 ? value / totals[row] : 0
                svg +=
                    "<rect class=\"segment\" data-part=\"\(HTML.escape(parts[k].name))\" x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(max(x1 - x0, 0.5)))\" height=\"\(f(barHeight))\" fill=\"\(parts[k].colour)\"><title>\(HTML.escape(bar.name)): \(HTML.escape(parts[k].name)) \(HTML.number(value, digits: 4)) \(HTML.escape(valueLabel)) (\(String(format: "%.1f", share * 100)) %)</title></rect>"
                if x1 - x0 > 38 {
                    svg +=
                        "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(y + barHeight / 2))\" dy=\"4\" font-size=\"11\" text-anchor=\"middle\" fill=\"#fff\">\(String(format: "%.0f", share * 100)) %</text>"
                }
                svg += "\n"
                start += value
            }
        }
        svg +=
            "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(plotBottom))\" stroke=\"#8a94a6\"/>\n"
        svg +=
            "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 8))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2430\">\(HTML.escape(valueLabel))</text>\n"
        svg += "</svg>\n<div class=\"legend\">"
        for part in parts {
            svg +=
                "<span><span class=\"band\" style=\"background: \(part.colour)\"></span>\(HTML.escape(part.name))</span>"
        }
        return svg + "</div>\n"
    }
}
