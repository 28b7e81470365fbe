import Collectives
import Evolution
import Foundation
import Kernels
import Networks
import Tasks

/// The islands one rank hosts, and the steps of a generation over them: vary and evaluate,
/// migrate along the topology, summarise.
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
    public let network: Network
    public let task: any FitnessTask
    /// The GA in the absolute latent space: the same operators with the latent mutation's σ and rate.
    let latentAlgorithm: GeneticAlgorithm
    /// This rank's islands, in increasing index order.
    public internal(set) var islands: [Island]
    /// Reused buffer of the next population, one per island whose algorithm needs one (no
    /// allocation per generation; an evolution strategy samples in place and has an empty one).
    var nextPopulations: [Population]
    /// Reused `[tile × D]` buffer of the genomes decoded from codes (`evaluateDecoded`, Archipelago+Codes).
    var decodeTile: [Float] = []
    /// The space the islands evolve in; every island switches at once.
    public internal(set) var phase = Phase.weights
    /// Seconds this rank spent decoding in the current generation (residuals, or the absolute
    /// latent's genomes); `Run` reads and resets it.
    var decodeSeconds = 0.0
    /// The meta-learner (the absolute latent space, or the anchored one's residual decoder) and
    /// its schedule.
    var latent: LatentSpace?
    let schedule: LatentSchedule?

    public enum Phase: String, Codable, Sendable {
        case weights, latent
    }

    /// The space the islands search, as the progress line names it: `latent` (the absolute
    /// latent's phase), `anchored` (the anchored latent), `codes` (EGGROLL's low-rank codes) or
    /// `weights`. (`metrics.jsonl` keeps `phase`: weights or latent.)
    var searchSpace: String {
        if phase == .latent { return "latent" }
        if config.latent.enabled && config.latent.mode == .anchored { return "anchored" }
        return config.decodesCodes ? "codes" : "weights"
    }

    /// Hosts `islands` (this rank's, as `placement` assigns them).
    init(config: RunConfig, communicator: any Communicator, network: Network, task: any FitnessTask, islands: [Island])
        throws
    {
        self.config = config
        self.communicator = communicator
        self.network = network
        self.task = task
        placement = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
        topology = try config.topology.make(islandCount: config.islands.count)
        migration = Migration(
            topology: topology, placement: placement, settings: config.migration, seed: config.seed,
            emigrantCount: min(config.migration.count, config.islands.population))
        var latentGA = config.evolution.geneticAlgorithm(sigma: config.latent.mutationSigma)
        latentGA.mutation = Mutation(kind: latentGA.mutation.kind, genes: .rate(config.latent.mutationRate))
        latentAlgorithm = latentGA
        schedule = config.latent.trainsMetaLearner ? LatentSchedule(config: config) : nil
        let mine = Array(placement.islands(of: communicator.rank))
        guard islands.map(\.index) == mine else {
            throw CheckpointError("rank \(communicator.rank) should host islands \(mine), got \(islands.map(\.index))")
        }
        self.islands = islands
        nextPopulations = islands.map(Self.scratch)
    }

    /// The scratch buffer of `island`: the population's shape when its algorithm breeds into a
    /// second buffer (the GA, in either space), empty otherwise.
    static func scratch(for island: Island) -> Population {
        Population(
            count: island.algorithm.needsScratch ? island.population.count : 0, dimension: island.population.dimension)
    }

    /// Generation 0: every individual initialised as PyTorch initialises the network (from the
    /// stream keyed by island, generation 0 and its index), then evaluated.
    static func initial(config: RunConfig, communicator: any Communicator, network: Network, task: any FitnessTask)
        throws -> Archipelago
    {
        let placement = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
        var islands: [Island] = []
        for index in placement.islands(of: communicator.rank) {
            if config.decodesCodes {
                islands.append(try initialDecodingIsland(index, config: config, network: network, task: task))
                continue
            }
            var population = Population(count: config.islands.population, dimension: network.parameterCount)
            for i in 0..<population.count {
                var stream = RandomStream(
                    seed: config.seed, island: index, generation: 0, purpose: "initialization#\(i)")
                population.withRow(i) { network.initialize($0, stream: &stream) }
            }
            population.assignIDs(key: StreamKey(seed: config.seed, island: index, generation: 0))
            try evaluate(
                &population, rows: 0..<population.count, generation: 0, seed: config.seed, network: network, task: task)
            var island = Island(
                index: index, population: population,
                archive: config.latent.trainsMetaLearner
                    ? Archive(capacity: config.meta.archiveSize, dimension: network.parameterCount) : nil,
                algorithm: config.islandAlgorithm(best: Array(population.row(population.bestIndex)), network: network))
            island.evaluations = population.count
            population.genes.withUnsafeBufferPointer { island.record(weights: $0, fitness: population.fitness) }
            islands.append(island)
        }
        return try Archipelago(
            config: config, communicator: communicator, network: network, task: task, islands: islands)
    }

    /// Scores rows `rows` of `population` with the task.
    static func evaluate(
        _ population: inout Population, rows: Range<Int>, generation: Int, seed: UInt64, network: Network,
        task: any FitnessTask
    ) throws {
        guard !rows.isEmpty else { return }
        let d = population.dimension
        var scores = [Float](repeating: 0, count: rows.count)
        try population.genes.withUnsafeBufferPointer { genes in
            try scores.withUnsafeMutableBufferPointer { out in
                try task.evaluate(
                    genomes: UnsafeBufferPointer(rebasing: genes[rows.lowerBound * d..<rows.upperBound * d]),
                    populationSize: rows.count, network: network, generation: generation, seed: seed, fitness: out)
            }
        }
        for (offset, row) in rows.enumerated() { population.fitness[row] = scores[offset] }
    }

    /// One generation of every island of this rank: elites kept, children bred and evaluated.
    ///
    /// - Returns: networks evaluated on this rank.
    func breedAndEvaluate(generation: Int) throws -> Int {
        if phase == .latent { return try breedAndEvaluateLatent(generation: generation) }
        var evaluated = 0
        for k in islands.indices {
            let key = StreamKey(seed: config.seed, island: islands[k].index, generation: generation)
            let evolved = islands[k].evolve(scratch: &nextPopulations[k], key: key)
            // Minibatch fitness: elites are scored again on this generation's batch, and the
            // island's best is this generation's (scores on different batches do not compare):
            // its evaluated mean where the algorithm has one, not the luckiest sample.
            let rows = task.rescoresSurvivors ? 0..<islands[k].population.count : evolved
            if task.rescoresSurvivors { islands[k].bestFitness = -.infinity }
            if islands[k].decoding != nil {
                try evaluateDecoded(island: k, rows: rows, generation: generation)
                evaluated += rows.count
                continue
            }
            decodeSeconds += try addResiduals(island: k)
            try Self.evaluate(
                &islands[k].population, rows: rows, generation: generation, seed: config.seed, network: network,
                task: task)
            islands[k].evaluations += rows.count
            islands[k].noteBestKind(rows: rows)
            let d = islands[k].population.dimension
            let evaluatedPopulation = islands[k].population  // shares the buffer: no copy
            evaluatedPopulation.genes.withUnsafeBufferPointer { genes in
                islands[k].record(
                    weights: UnsafeBufferPointer(rebasing: genes[rows.lowerBound * d..<rows.upperBound * d]),
                    fitness: Array(evaluatedPopulation.fitness[rows]),
                    resultRow: task.rescoresSurvivors
                        ? islands[k].algorithm.meanRow.flatMap { rows.contains($0) ? $0 - rows.lowerBound : nil } : nil)
            }
            evaluated += rows.count
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
}
