import Foundation
import Testing

@testable import Reports

@Suite("Charts")
struct ChartTests {
    @Test("linear ticks are 1, 2 or 5 × 10^k and cover the data")
    func linearTicks() {
        let scale = AxisScale(values: [3, 97], pixels: (0, 100))
        #expect(scale.ticks == [0, 20, 40, 60, 80, 100])
        let small = AxisScale(values: [-0.013, 0.041], pixels: (0, 100))
        #expect(small.lower <= -0.013 && small.upper >= 0.041)
        #expect(small.ticks.count >= 4 && small.ticks.count <= 8)
        let tight = AxisScale(values: [3, 97], pixels: (0, 100), tight: true)
        #expect(tight.lower == 3 && tight.upper == 97 && tight.ticks == [20, 40, 60, 80])
        let flat = AxisScale(values: [5, 5], pixels: (0, 100))
        #expect(flat.lower < 5 && flat.upper > 5)
    }

    @Test("log ticks are decades, with 2 and 5 over a short range; values ≤ 0 are ignored")
    func logTicks() {
        let scale = AxisScale(values: [0.03, 4, 0, -1], pixels: (100, 0), logarithmic: true)
        #expect(scale.lower == 0.01 && scale.upper == 10)
        #expect(scale.ticks == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10].map { $0 })
        #expect(abs(scale.pixel(1) - 100.0 / 3) < 1e-9)
    }

    @Test("tick labels use k and M and at most four significant digits")
    func labels() {
        #expect(AxisScale.label(20_000) == "20k")
        #expect(AxisScale.label(1500) == "1.5k")
        #expect(AxisScale.label(999) == "999")
        #expect(AxisScale.label(2_500_000) == "2.5M")
        #expect(AxisScale.label(0.25) == "0.25")
        #expect(AxisScale.label(-1.5) == "-1.5")
        #expect(AxisScale.label(0) == "0")
        #expect(AxisScale.label(0.0001) == "1e-4")
        #expect(AxisScale.label(2.5e-7) == "2.5e-7")
    }

    @Test("thinning keeps at most the limit, the ends, and every bucket's extremes")
    func thinning() {
        var points = (0..<100_000).map { ChartPoint(x: Double($0), y: sin(Double($0) / 500)) }
        points[31_337].y = 9
        points[77_777].y = -9
        let thinned = Thinning.thinned(points, limit: 2000)
        #expect(thinned.count <= 2000)
        #expect(thinned.first == points.first && thinned.last == points.last)
        #expect(thinned.contains(points[31_337]) && thinned.contains(points[77_777]))
        #expect(zip(thinned, thinned.dropFirst()).allSatisfy { $0.x < $1.x })
        let short = Array(points.prefix(1500))
        #expect(Thinning.thinned(short, limit: 2000) == short)
    }

    @Test("a long line is drawn with at most pointLimit points; names are escaped")
    func longLine() throws {
        var chart = LineChart(title: "t", xLabel: "x <units>", yLabel: "y & z")
        chart.series = [
            LineChart.Series(
                name: "a \"b\"", colour: "#000",
                points: (0..<50_000).map { ChartPoint(x: Double($0), y: Double($0 % 7)) })
        ]
        let elements = try ReportTestSupport.elements("<div>" + chart.html() + "</div>")
        let line = elements.first { $0.name == "polyline" }!
        #expect(ReportTestSupport.pointCount(line) <= 2000)
        #expect(line.attributes["data-series"] == "a \"b\"")
    }
}
