import Kernels

/// Which edges of a run's topology carried migrants in which generation, worked out from the
/// configuration alone (the run keeps no migration log: the schedule is a function of the config).
///
/// Migration happens after every generation g with g mod `migration.interval` = 0; an edge of
/// probability p < 1 fires when the destination's stream `(seed, destination, g,
/// "migration-edge#source")` draws u < p (`Migration` asks `fires` here, so the two cannot disagree). Each firing edge carries
/// min(`migration.count`, `islands.population`) genomes.
public struct MigrationSchedule: Sendable {
    /// Moves along one edge up to a generation.
    public struct EdgeMoves: Equatable, Sendable {
        public var edge: Topology.Edge
        /// Migration events at which the edge fired.
        public var events: Int
        /// Genomes it carried.
        public var genomes: Int
    }

    public let topology: Topology
    public let seed: UInt64
    public let interval: Int
    /// Genomes per firing edge.
    public let emigrants: Int

    /// - Throws: `TopologyError` for a topology the config cannot build.
    public init(config: RunConfig) throws {
        topology = try config.topology.make(islandCount: config.islands.count)
        seed = config.seed
        interval = config.migration.interval
        emigrants = min(config.migration.count, config.islands.population)
    }

    /// Whether `edge` carries migrants after `generation` (the migration interval aside).
    public static func fires(_ edge: Topology.Edge, seed: UInt64, generation: Int) -> Bool {
        if edge.probability >= 1 { return true }
        var stream = RandomStream(
            seed: seed, island: edge.destination, generation: generation, purpose: "migration-edge#\(edge.source)")
        return stream.uniform() < edge.probability
    }

    /// Every edge with the migrations it carried in generations 1 … `generation`, in the
    /// topology's edge order.
    public func moves(throughGeneration generation: Int) -> [EdgeMoves] {
        let events = interval > 0 ? stride(from: interval, through: max(generation, 0), by: interval).map { $0 } : []
        return topology.edges.map { edge in
            let fired = events.filter { Self.fires(edge, seed: seed, generation: $0) }.count
            return EdgeMoves(edge: edge, events: fired, genomes: fired * emigrants)
        }
    }
}
