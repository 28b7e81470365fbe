import Foundation

/// A line chart drawn as inline SVG: axes with ticks and labelled units, one `<polyline>` per
/// series, shaded bands (for example the latent phase) and horizontal reference lines.
///
/// Every series is thinned to at most `pointLimit` points (`Thinning`) before drawing. Each
/// polyline carries `class="series"`, `data-series` (its name) and `data-points` (its point count
/// after thinning); each band `class="band"` and its `data-from`/`data-to` labels, so tests and
/// scripts can read the chart back.
public struct LineChart {
    public struct Series {
        public var name: String
        public var colour: String
        public var points: [ChartPoint]
        public var dashed: Bool

        public init(name: String, colour: String, points: [ChartPoint], dashed: Bool = false) {
            self.name = name
            self.colour = colour
            self.points = points
            self.dashed = dashed
        }
    }

    /// A shaded stretch of the x axis.
    public struct Band {
        public var from: Double
        public var to: Double
        public var colour: String
        /// What the band means, shown as its tooltip.
        public var label: String
        /// Written as `data-` attributes (for example the generations it covers).
        public var attributes: [(String, String)]
        /// Fill opacity (lower where several runs' bands overlap).
        public var opacity: Double

        public init(
            from: Double, to: Double, colour: String = "#f6d98b", label: String, attributes: [(String, String)] = [],
            opacity: Double = 0.45
        ) {
            self.from = from
            self.to = to
            self.colour = colour
            self.label = label
            self.attributes = attributes
            self.opacity = opacity
        }
    }

    /// A horizontal line across the plot at `y` (a threshold).
    public struct ReferenceLine {
        public var y: Double
        public var label: String

        public init(y: Double, label: String) {
            self.y = y
            self.label = label
        }
    }

    public var title: String
    /// The x axis' quantity and unit, e.g. "evaluations (networks scored, per island)".
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    public var bands: [Band] = []
    public var references: [ReferenceLine] = []
    public var logarithmicY = false
    public var width = 760.0
    public var height = 300.0
    public var pointLimit = 2000

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// The chart as an `<svg>` element followed by an HTML legend (when there is more than one
    /// series or a band).
    public func html() -> String {
        let left = 64.0
        let right = 16.0
        let top = 28.0
        let bottom = 46.0
        let drawn = series.map { s in
            (
                s,
                Thinning.thinned(
                    s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logarithmicY || $0.y > 0) }, limit: pointLimit
                )
            )
        }
        let xs = drawn.flatMap { $0.1.map(\.x) } + bands.flatMap { [$0.from, $0.to] }
        let ys = drawn.flatMap { $0.1.map(\.y) } + references.map(\.y)
        let x = AxisScale(values: xs, pixels: (left, width - right), tight: true)
        let y = AxisScale(values: ys, pixels: (height - bottom, top), logarithmic: logarithmicY)
        let f = { (v: Double) in String(format: "%.1f", v) }

        var svg =
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">\n"
        svg +=
            "<text x=\"\(f(left))\" y=\"17\" font-size=\"14\" font-weight=\"600\" fill=\"#1d2430\">\(HTML.escape(title))</text>\n"
        for band in bands {
            let x0 = x.pixel(band.from)
            let x1 = x.pixel(band.to)
            let extra = band.attributes.map { " data-\($0.0)=\"\(HTML.escape($0.1))\"" }.joined()
            svg +=
                "<rect class=\"band\"\(extra) x=\"\(f(min(x0, x1)))\" y=\"\(f(top))\" width=\"\(f(max(abs(x1 - x0), 1)))\" height=\"\(f(height - bottom - top))\" fill=\"\(band.colour)\" fill-opacity=\"\(band.opacity)\"><title>\(HTML.escape(band.label))</title></rect>\n"
        }
        // Grid, ticks and tick labels.
        for tick in x.ticks {
            let px = f(x.pixel(tick))
            svg +=
                "<line x1=\"\(px)\" y1=\"\(f(top))\" x2=\"\(px)\" y2=\"\(f(height - bottom + 4))\" stroke=\"#e3e7ee\"/>"
            svg +=
                "<text x=\"\(px)\" y=\"\(f(height - bottom + 17))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#4a5568\">\(AxisScale.label(tick))</text>\n"
        }
        for tick in y.ticks {
            let py = f(y.pixel(tick))
            svg +=
                "<line x1=\"\(f(left - 4))\" y1=\"\(py)\" x2=\"\(f(width - right))\" y2=\"\(py)\" stroke=\"#e3e7ee\"/>"
            svg +=
                "<text x=\"\(f(left - 7))\" y=\"\(py)\" dy=\"4\" font-size=\"11\" text-anchor=\"end\" fill=\"#4a5568\">\(AxisScale.label(tick))</text>\n"
        }
        svg +=
            "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left - right))\" height=\"\(f(height - top - bottom))\" fill=\"none\" stroke=\"#8a94a6\"/>\n"
        svg +=
            "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 8))\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2430\">\(HTML.escape(xLabel))</text>\n"
        svg +=
            "<text transform=\"translate(14 \(f((top + height - bottom) / 2))) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1d2430\">\(HTML.escape(yLabel))</text>\n"
        for reference in references where y.accepts(reference.y) {
            let py = f(y.pixel(reference.y))
            svg +=
                "<line class=\"reference\" x1=\"\(f(left))\" y1=\"\(py)\" x2=\"\(f(width - right))\" y2=\"\(py)\" stroke=\"#c53030\" stroke-dasharray=\"6 4\"/>"
            svg +=
                "<text x=\"\(f(width - right - 4))\" y=\"\(py)\" dy=\"-4\" font-size=\"11\" text-anchor=\"end\" fill=\"#c53030\">\(HTML.escape(reference.label))</text>\n"
        }
        for (s, points) in drawn {
            let coordinates = points.map { "\(f(x.pixel($0.x))),\(f(y.pixel($0.y)))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray=\"5 3\"" : ""
            if points.count == 1 {
                svg +=
                    "<circle class=\"marker\" cx=\"\(f(x.pixel(points[0].x)))\" cy=\"\(f(y.pixel(points[0].y)))\" r=\"3\" fill=\"\(s.colour)\"/>"
            }
            svg +=
                "<polyline class=\"series\" data-series=\"\(HTML.escape(s.name))\" data-points=\"\(points.count)\" points=\"\(coordinates)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"1.6\"\(dash)><title>\(HTML.escape(s.name))</title></polyline>\n"
        }
        svg += "</svg>\n"
        let needsLegend = series.count > 1 || !bands.isEmpty
        guard needsLegend else { return svg }
        var legend = "<div class=\"legend\">"
        for s in series {
            let style =
                s.dashed
                ? "background: repeating-linear-gradient(90deg, \(s.colour) 0 5px, transparent 5px 8px)"
                : "background: \(s.colour)"
            legend += "<span><span class=\"swatch\" style=\"\(style)\"></span>\(HTML.escape(s.name))</span>"
        }
        for label in Set(bands.map(\.label)).sorted() {
            let colour = bands.first { $0.label == label }!.colour
            let opacity = bands.first { $0.label == label }!.opacity
            legend +=
                "<span><span class=\"band\" style=\"background: \(colour); opacity: \(opacity)\"></span>\(HTML.escape(label))</span>"
        }
        return svg + legend + "</div>\n"
    }

    /// Ten distinguishable colours (Tableau 10), repeated for more series.
    public static let palette = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    /// The colour of series `index` (any integer: a negative island number from a damaged log too).
    public static func colour(_ index: Int) -> String {
        palette[((index % palette.count) + palette.count) % palette.count]
    }
}
