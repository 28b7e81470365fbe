import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `topology:` who sends migrants to whom.
public struct TopologySection: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case ring
        case fullyConnected = "fully_connected"
        case torus, unconnected, edges
    }

    /// `ring`, `fully_connected`, `torus`, `unconnected` or `edges`.
    public var kind = Kind.ring
    /// Ring: send both ways (`true`) or only to `i + 1`.
    public var bidirectional = true
    /// Torus: rows of the grid (columns = islands / rows); `nil` picks the squarest grid.
    public var rows: Int?
    /// `edges`: the directed edges, each `{source, destination, probability}`.
    public var edges: [Topology.Edge] = []

    public init() {}

    enum CodingKeys: String, ConfigKey { case kind, bidirectional, rows, edges }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .ring
        bidirectional = try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? true
        rows = try c.decodeIfPresent(Int.self, forKey: .rows)
        edges = try c.decodeIfPresent([Topology.Edge].self, forKey: .edges) ?? []
    }

    /// The topology over `islandCount` islands.
    public func make(islandCount n: Int) throws -> Topology {
        do {
            switch kind {
            case .ring: return try .ring(n, bidirectional: bidirectional)
            case .fullyConnected: return try .fullyConnected(n)
            case .unconnected: return try .unconnected(n)
            case .edges: return try Topology(islandCount: n, edges: edges)
            case .torus:
                let r = rows ?? (1...n).last { n % $0 == 0 && $0 * $0 <= n }!
                guard r >= 1, n % r == 0 else {
                    throw TopologyError("a torus of \(n) islands needs rows dividing \(n), got \(r)")
                }
                return try .torus(rows: r, columns: n / r)
            }
        } catch let error as TopologyError {
            throw ConfigError.invalidValue(path: "topology", message: error.description)
        }
    }
}
