/// Who sends migrants to whom: a directed graph over logical islands, each edge with the
/// probability that it carries migrants at a migration event (pagmo's topology: "who sends to
/// island i, with what probability").
public struct Topology: Equatable, Sendable {
    /// One directed edge: migrants go from `source` to `destination` with `probability`.
    public struct Edge: Codable, Equatable, Hashable, Sendable {
        public var source: Int
        public var destination: Int
        public var probability: Double

        public init(source: Int, destination: Int, probability: Double = 1) {
            self.source = source
            self.destination = destination
            self.probability = probability
        }

        enum CodingKeys: String, ConfigKey { case source, destination, probability }

        /// `{source, destination}` with an optional `probability` (default 1).
        public init(from decoder: Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            source = try c.decode(Int.self, forKey: .source)
            destination = try c.decode(Int.self, forKey: .destination)
            probability = try c.decodeIfPresent(Double.self, forKey: .probability) ?? 1
        }
    }

    /// Number of islands (vertices).
    public let islandCount: Int
    /// Every edge, sorted by (destination, source): the order migrations are carried out in.
    public let edges: [Edge]

    /// A topology from an explicit edge list.
    ///
    /// - Throws: `TopologyError` for an island index outside `0 ..< islandCount`, a self-loop,
    ///   a repeated edge, or a probability outside `(0, 1]`.
    public init(islandCount: Int, edges: [Edge]) throws {
        guard islandCount >= 1 else { throw TopologyError("a topology needs at least one island, got \(islandCount)") }
        var seen = Set<[Int]>()
        for e in edges {
            for end in [e.source, e.destination] where !(0..<islandCount).contains(end) {
                throw TopologyError("edge \(e.source)→\(e.destination) names island \(end), outside 0..<\(islandCount)")
            }
            guard e.source != e.destination else {
                throw TopologyError("edge \(e.source)→\(e.destination) is a self-loop")
            }
            guard e.probability > 0 && e.probability <= 1 else {
                throw TopologyError(
                    "edge \(e.source)→\(e.destination) has probability \(e.probability), expected a value in (0, 1]")
            }
            guard seen.insert([e.source, e.destination]).inserted else {
                throw TopologyError("edge \(e.source)→\(e.destination) is listed twice")
            }
        }
        self.islandCount = islandCount
        self.edges = edges.sorted { ($0.destination, $0.source) < ($1.destination, $1.source) }
    }

    /// Island `i` sends to `i ± 1 (mod n)`; with `bidirectional: false` only to `i + 1`.
    public static func ring(_ n: Int, bidirectional: Bool = true) throws -> Topology {
        var edges: [Edge] = []
        if n > 1 {
            for i in 0..<n {
                edges.append(Edge(source: i, destination: (i + 1) % n))
                if bidirectional && n > 2 { edges.append(Edge(source: (i + 1) % n, destination: i)) }
            }
        }
        return try Topology(islandCount: n, edges: edges)
    }

    /// Every island sends to every other.
    public static func fullyConnected(_ n: Int) throws -> Topology {
        try Topology(
            islandCount: n,
            edges: (0..<n).flatMap { s in
                (0..<n).filter { $0 != s }.map { Edge(source: s, destination: $0) }
            })
    }

    /// Islands on a `rows × columns` grid that wraps around at its edges, each sending to its
    /// (up to four) distinct neighbours; island `r · columns + c` sits at row r, column c.
    public static func torus(rows: Int, columns: Int) throws -> Topology {
        guard rows >= 1, columns >= 1 else { throw TopologyError("a torus needs at least 1 row and 1 column") }
        var edges = Set<Edge>()
        for r in 0..<rows {
            for c in 0..<columns {
                let me = r * columns + c
                let neighbours = [
                    ((r + 1) % rows) * columns + c, ((r + rows - 1) % rows) * columns + c,
                    r * columns + (c + 1) % columns, r * columns + (c + columns - 1) % columns,
                ]
                for n in neighbours where n != me { edges.insert(Edge(source: me, destination: n)) }
            }
        }
        return try Topology(islandCount: rows * columns, edges: Array(edges))
    }

    /// No edges: islands evolve alone.
    public static func unconnected(_ n: Int) throws -> Topology {
        try Topology(islandCount: n, edges: [])
    }

    /// Edges into `island`, sorted by source.
    public func sources(of island: Int) -> [Edge] {
        edges.filter { $0.destination == island }
    }

    /// Edges out of `island`, sorted by destination.
    public func destinations(of island: Int) -> [Edge] {
        edges.filter { $0.source == island }.sorted { $0.destination < $1.destination }
    }

    /// For each island, the least number of migration events after which a genome that starts on
    /// `island` can have reached it (edges taken with probability > 0); `nil` where it never can.
    public func hops(from island: Int) -> [Int?] {
        var distance = [Int?](repeating: nil, count: islandCount)
        distance[island] = 0
        var frontier = [island]
        while !frontier.isEmpty {
            var next: [Int] = []
            for s in frontier {
                for e in destinations(of: s) where distance[e.destination] == nil {
                    distance[e.destination] = distance[s]! + 1
                    next.append(e.destination)
                }
            }
            frontier = next
        }
        return distance
    }
}

/// A topology that cannot be built, with the reason.
public struct TopologyError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
