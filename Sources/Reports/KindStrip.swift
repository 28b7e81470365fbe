import Foundation

/// A strip over generations as inline SVG: one row per island, one cell per generation (or, past
/// `columnLimit` generations, per stretch of generations), coloured by a category of that island
/// in that generation — which kind of candidate scored best.
///
/// A cell covering several generations takes the kind that was best in most of them (the first in
/// `kinds`' order on a tie). Each cell carries `class="kind-cell"`, `data-island`, `data-kind`,
/// `data-from-generation` and `data-to-generation`, so tests and scripts can read the strip back.
public struct KindStrip {
    public var title: String
    /// `(generation, island, kind)`, in any order.
    public var lines: [(generation: Int, island: Int, kind: String)]
    /// The kinds, in legend order.
    public var kinds: [String]
    public var colours: [String: String]
    public var width = 760.0
    /// Cells per row at most.
    public var columnLimit = 300

    public init(
        title: String, lines: [(generation: Int, island: Int, kind: String)], kinds: [String], colours: [String: String]
    ) {
        self.title = title
        self.lines = lines
        self.kinds = kinds
        self.colours = colours
    }

    public func html() -> String {
        let left = 64.0
        let right = 16.0
        let top = 28.0
        let rowHeight = 14.0
        let gap = 3.0
        let bottom = 42.0
        let islands = Set(lines.map(\.island)).sorted()
        let generations = Set(lines.map(\.generation)).sorted()
        guard let first = generations.first, let last = generations.last else { return "" }
        let height = top + Double(islands.count) * (rowHeight + gap) + bottom
        // Generations first ... last in `columns` stretches of `span` generations each.
        let count = last - first + 1
        let span = (count + columnLimit - 1) / columnLimit
        let columns = (count + span - 1) / span
        let axis = AxisScale(values: [Double(first), Double(last + 1)], pixels: (left, width - right), tight: true)
        let f = { (v: Double) in String(format: "%.1f", v) }
        var tally: [Int: [Int: [String: Int]]] = [:]  // island -> column -> kind -> generations
        for line in lines {
            tally[line.island, default: [:]][(line.generation - first) / span, default: [:]][line.kind, default: 0] += 1
        }

        var svg =
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">\n"
        svg +=
            "<text x=\"\(f(left))\" y=\"17\" font-size=\"14\" font-weight=\"600\" fill=\"#1d2430\">\(HTML.escape(title))</text>\n"
        let plotBottom = height - bottom
        // One generation a cell: each tick labels its cell's middle; else the boundary of a stretch.
        for tick in axis.ticks where span > 1 || (tick == tick.rounded() && tick <= Double(last)) {
            let px = f(axis.pixel(span > 1 ? tick : tick + 0.5))
            svg +=
                "<line x1=\"\(px)\" y1=\"\(f(plotBottom))\" x2=\"\(px)\" y2=\"\(f(plotBottom + 4))\" stroke=\"#8a94a6\"/>"
            svg +=
                "<text x=\"\(px)\" y=\"\(f(plotBottom + 17))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#4a5568\">\(AxisScale.label(tick))</text>\n"
        }
        for (row, island) in islands.enumerated() {
            let y = top + Double(row) * (rowHeight + gap)
            svg +=
                "<text x=\"\(f(left - 7))\" y=\"\(f(y + rowHeight / 2))\" dy=\"4\" font-size=\"11\" text-anchor=\"end\" fill=\"#1d2430\">island \(island)</text>\n"
            for column in 0..<columns {
                guard let counts = tally[island]?[column] else { continue }
                let kind = kinds.max {
                    (counts[$0] ?? 0) < (counts[$1] ?? 0)
                        || ((counts[$0] ?? 0) == (counts[$1] ?? 0)
                            && kinds.firstIndex(of: $0)! > kinds.firstIndex(of: $1)!)
                }!
                let from = first + column * span
                let to = min(from + span - 1, last)
                let x0 = axis.pixel(Double(from))
                let x1 = axis.pixel(Double(to + 1))
                let range = from == to ? "generation \(from)" : "generations \(from)–\(to)"
                svg +=
                    "<rect class=\"kind-cell\" data-island=\"\(island)\" data-kind=\"\(HTML.escape(kind))\" data-from-generation=\"\(from)\" data-to-generation=\"\(to)\" "
                    + "x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(max(x1 - x0, 0.5)))\" height=\"\(f(rowHeight))\" fill=\"\(colours[kind] ?? "#999")\">"
                    + "<title>island \(island), \(range): \(HTML.escape(kind))</title></rect>\n"
            }
        }
        svg +=
            "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 8))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2430\">generation\(span > 1 ? " (each cell \(span) generations: the kind best in most of them)" : "")</text>\n"
        svg += "</svg>\n<div class=\"legend\">"
        for kind in kinds {
            svg +=
                "<span><span class=\"band\" style=\"background: \(colours[kind] ?? "#999")\"></span>\(HTML.escape(kind))</span>"
        }
        return svg + "</div>\n"
    }
}
