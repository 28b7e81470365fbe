import Foundation
import IslandModel

/// A topology drawn as inline SVG: islands as numbered circles (on a circle, or on the grid of a
/// torus), each directed edge as an arrow; an edge and its reverse are drawn side by side. Islands
/// are coloured by the rank that hosts them.
public struct TopologyDrawing {
    public let topology: Topology
    /// Grid rows for a torus; `nil` places the islands on a circle.
    public let gridRows: Int?
    public let placement: IslandPlacement?

    /// Islands above this many are not drawn (the edge table still lists every edge).
    public static let islandLimit = 64

    public init(topology: Topology, gridRows: Int? = nil, placement: IslandPlacement? = nil) {
        self.topology = topology
        self.gridRows = gridRows
        self.placement = placement
    }

    public func html() -> String {
        let n = topology.islandCount
        guard n <= Self.islandLimit else {
            return "<p class=\"note\">\(n) islands: too many to draw; the table lists every edge.</p>\n"
        }
        let size = 320.0
        let centre = size / 2
        let radius = n == 1 ? 0 : size / 2 - 34
        let nodeRadius = n > 24 ? 9.0 : 14.0
        var positions: [(Double, Double)] = []
        if let rows = gridRows, rows > 0, n % rows == 0 {
            let columns = n / rows
            let step = min((size - 60) / Double(max(columns - 1, 1)), (size - 60) / Double(max(rows - 1, 1)))
            for i in 0..<n {
                positions.append((30 + Double(i % columns) * step, 30 + Double(i / columns) * step))
            }
        } else {
            for i in 0..<n {
                let angle = -Double.pi / 2 + 2 * Double.pi * Double(i) / Double(n)
                positions.append((centre + radius * cos(angle), centre + radius * sin(angle)))
            }
        }
        let f = { (v: Double) in String(format: "%.1f", v) }
        var svg =
            "<svg class=\"chart topology\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size))\" height=\"\(Int(size))\" viewBox=\"0 0 \(Int(size)) \(Int(size))\" role=\"img\" aria-label=\"migration topology\">\n"
        svg +=
            "<defs><marker id=\"topology-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#4a5568\"/></marker></defs>\n"
        let pairs = Set(topology.edges.map { [$0.source, $0.destination] })
        for edge in topology.edges {
            let (x0, y0) = positions[edge.source]
            let (x1, y1) = positions[edge.destination]
            let dx = x1 - x0
            let dy = y1 - y0
            let length = max((dx * dx + dy * dy).squareRoot(), 1e-9)
            let ux = dx / length
            let uy = dy / length
            // Shift an edge that has a reverse to its own side of the centre line.
            let offset = pairs.contains([edge.destination, edge.source]) ? 3.5 : 0
            let ox = -uy * offset
            let oy = ux * offset
            let dash = edge.probability < 1 ? " stroke-dasharray=\"4 3\"" : ""
            svg +=
                "<line class=\"edge\" data-source=\"\(edge.source)\" data-destination=\"\(edge.destination)\" x1=\"\(f(x0 + ux * nodeRadius + ox))\" y1=\"\(f(y0 + uy * nodeRadius + oy))\" x2=\"\(f(x1 - ux * (nodeRadius + 1) + ox))\" y2=\"\(f(y1 - uy * (nodeRadius + 1) + oy))\" stroke=\"#4a5568\" stroke-width=\"1.2\"\(dash) marker-end=\"url(#topology-arrow)\"><title>island \(edge.source) → island \(edge.destination), probability \(HTML.number(edge.probability, digits: 3))</title></line>\n"
        }
        for i in 0..<n {
            let (x, y) = positions[i]
            let rank = placement?.rank(of: i)
            let colour = rank.map { LineChart.colour($0) } ?? "#4e79a7"
            let tip = rank.map { "island \(i) on rank \($0)" } ?? "island \(i)"
            svg +=
                "<circle class=\"island\" cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(nodeRadius))\" fill=\"\(colour)\"><title>\(tip)</title></circle>"
            svg +=
                "<text x=\"\(f(x))\" y=\"\(f(y))\" dy=\"4\" font-size=\"\(n > 24 ? 9 : 12)\" text-anchor=\"middle\" fill=\"#fff\">\(i)</text>\n"
        }
        svg += "</svg>\n"
        if let placement, placement.rankCount > 1 {
            svg += "<div class=\"legend\" style=\"margin-left: 0\">"
            for rank in 0..<min(placement.rankCount, 10) {
                svg +=
                    "<span><span class=\"band\" style=\"background: \(LineChart.colour(rank))\"></span>rank \(rank)</span>"
            }
            svg += "</div>\n"
        }
        return svg
    }
}
