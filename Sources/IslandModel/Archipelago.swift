import Collectives
import Evolution
import Foundation
import Networks
import Tasks

/// The islands one rank hosts, the topology between all islands, and the steps of a generation
/// over them: each island evolves itself (`Island.evolve`, or the meta-learner's design in the
/// absolute latent phase), migrants move along the topology, the ranks gather their reports.
///
/// Every rank builds the same `Archipelago` description (config, placement, topology) and holds
/// only its own islands. A generation's random numbers are keyed by (seed, island, generation), and
/// migration follows the topology's fixed edge order, so the islands evolve identically whichever
/// ranks host them.
public final class Archipelago {
    public let config: RunConfig
    public let placement: IslandPlacement
    public let topology: Topology
    /// Moves emigrants along `topology`.
    let migration: Migration
    public let communicator: any Communicator
    /// The task and network every island's candidates are scored with.
    let evaluator: CandidateEvaluator
    /// This rank's islands, in increasing index order.
    public internal(set) var islands: [Island]
    /// How the run uses its meta-learner (`nil`: it has none).
    var design: (any MetaLearnerDesign)? {
        didSet { evaluator.metaLearner = design?.metaLearner }
    }

    public var network: Network { evaluator.network }
    public var task: any FitnessTask { evaluator.task }
    /// The space the islands evolve in; every island switches at once.
    public var phase: SearchPhase { design?.phase ?? .weights }

    /// Hosts `islands` (this rank's, as `placement` assigns them).
    init(config: RunConfig, communicator: any Communicator, network: Network, task: any FitnessTask, islands: [Island])
        throws
    {
        self.config = config
        self.communicator = communicator
        evaluator = CandidateEvaluator(network: network, task: task, tile: config.evolution.tile)
        placement = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
        topology = try config.topology.make(islandCount: config.islands.count)
        migration = Migration(
            topology: topology, placement: placement, settings: config.migration, seed: config.seed,
            emigrantCount: min(config.migration.count, config.islands.population))
        let mine = Array(placement.islands(of: communicator.rank))
        guard islands.map(\.index) == mine else {
            throw CheckpointError("rank \(communicator.rank) should host islands \(mine), got \(islands.map(\.index))")
        }
        self.islands = islands
    }

    /// Generation 0 of this rank's islands (`Island.generationZero`).
    static func initial(config: RunConfig, communicator: any Communicator, network: Network, task: any FitnessTask)
        throws -> Archipelago
    {
        let placement = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
        let evaluator = CandidateEvaluator(network: network, task: task, tile: config.evolution.tile)
        let islands = try placement.islands(of: communicator.rank).map {
            try Island.generationZero($0, config: config, evaluator: evaluator)
        }
        return try Archipelago(
            config: config, communicator: communicator, network: network, task: task, islands: islands)
    }

    /// One generation of every island of this rank, in island order.
    ///
    /// - Returns: networks evaluated on this rank.
    func evolve(generation: Int) throws -> Int {
        var evaluated = 0
        for k in islands.indices {
            let key = StreamKey(seed: config.seed, island: islands[k].index, generation: generation)
            evaluated +=
                try design?.evolve(&islands[k], key: key, with: evaluator)
                ?? islands[k].evolve(key: key, with: evaluator)
        }
        return evaluated
    }

    /// Migration after `generation` (see `Migration.move`).
    ///
    /// - Returns: bytes this rank sent to other ranks.
    @discardableResult
    func migrate(generation: Int) throws -> Int {
        try migration.move(&islands, generation: generation, weightSpace: phase == .weights, communicator: communicator)
    }

    /// Every rank's report of a generation, in rank order (one allgather): `mine` is this rank's.
    func gather(_ mine: RankReport) throws -> [RankReport] {
        try communicator.allgatherStrings(String(decoding: try JSONEncoder().encode(mine), as: UTF8.self))
            .map { try JSONDecoder().decode(RankReport.self, from: Data($0.utf8)) }
    }

    /// The space the islands search, as the progress line names it (`RunConfig.searchSpace`).
    var searchSpace: String { config.searchSpace(in: phase) }
}
