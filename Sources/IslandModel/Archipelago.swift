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
    public let communicator: any Communicator
    public let network: Network
    public let task: any FitnessTask
    let algorithm: GeneticAlgorithm
    /// The GA in latent space: the same operators with the latent mutation's σ and rate.
    let latentAlgorithm: GeneticAlgorithm
    /// This rank's islands, in increasing index order.
    public internal(set) var islands: [Island]
    /// Reused buffer of the next population, one per island (no allocation per generation).
    var nextPopulations: [Population]
    /// The space the islands evolve in; every island switches at once.
    public internal(set) var phase = Phase.weights
    /// The meta-learner (when `latent.enabled`).
    var latent: LatentSpace?

    public enum Phase: String, Codable, Sendable {
        case weights, latent
    }

    /// Genomes per migration message.
    var emigrantCount: Int { min(config.migration.count, config.islands.population) }

    /// Hosts `islands` (this rank's, as `placement` assigns them).
    init(config: RunConfig, communicator: any Communicator, network: Network, task: any FitnessTask, islands: [Island]) throws {
        self.config = config
        self.communicator = communicator
        self.network = network
        self.task = task
        placement = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
        topology = try config.topology.make(islandCount: config.islands.count)
        algorithm = config.evolution.geneticAlgorithm()
        var latentGA = config.evolution.geneticAlgorithm(sigma: config.latent.mutationSigma)
        latentGA.mutation = Mutation(kind: latentGA.mutation.kind, genes: .rate(config.latent.mutationRate))
        latentAlgorithm = latentGA
        let mine = Array(placement.islands(of: communicator.rank))
        guard islands.map(\.index) == mine else {
            throw CheckpointError("rank \(communicator.rank) should host islands \(mine), got \(islands.map(\.index))")
        }
        self.islands = islands
        nextPopulations = islands.map { Population(count: $0.population.count, dimension: $0.population.dimension) }
    }

    /// Generation 0: every individual initialised as PyTorch initialises the network (from the
    /// stream keyed by island, generation 0 and its index), then evaluated.
    static func initial(config: RunConfig, communicator: any Communicator, network: Network, task: any FitnessTask) throws -> Archipelago {
        let placement = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
        var islands: [Island] = []
        for index in placement.islands(of: communicator.rank) {
            var population = Population(count: config.islands.population, dimension: network.parameterCount)
            for i in 0 ..< population.count {
                var stream = RandomStream(seed: config.seed, island: index, generation: 0, purpose: "initialization#\(i)")
                population.withRow(i) { network.initialize($0, stream: &stream) }
            }
            population.assignIDs(key: StreamKey(seed: config.seed, island: index, generation: 0))
            try evaluate(&population, rows: 0 ..< population.count, generation: 0, seed: config.seed, network: network, task: task)
            var island = Island(index: index, population: population,
                                archive: config.latent.enabled ? Archive(capacity: config.meta.archiveSize, dimension: network.parameterCount) : nil)
            island.evaluations = population.count
            population.genes.withUnsafeBufferPointer { island.record(weights: $0, fitness: population.fitness) }
            islands.append(island)
        }
        return try Archipelago(config: config, communicator: communicator, network: network, task: task, islands: islands)
    }

    /// Scores rows `rows` of `population` with the task.
    static func evaluate(_ population: inout Population, rows: Range<Int>, generation: Int, seed: UInt64, network: Network, task: any FitnessTask) throws {
        guard !rows.isEmpty else { return }
        let d = population.dimension
        var scores = [Float](repeating: 0, count: rows.count)
        try population.genes.withUnsafeBufferPointer { genes in
            try scores.withUnsafeMutableBufferPointer { out in
                try task.evaluate(
                    genomes: UnsafeBufferPointer(rebasing: genes[rows.lowerBound * d ..< rows.upperBound * d]),
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
            let bred = algorithm.breedGeneration(parents: islands[k].population, into: &nextPopulations[k], key: key)
            // Minibatch fitness: elites are scored again on this generation's batch, and the
            // island's best is this generation's (scores on different batches do not compare).
            let rows = task.rescoresSurvivors ? 0 ..< nextPopulations[k].count : bred
            if task.rescoresSurvivors { islands[k].bestFitness = -.infinity }
            try Self.evaluate(&nextPopulations[k], rows: rows, generation: generation, seed: config.seed, network: network, task: task)
            swap(&islands[k].population, &nextPopulations[k])
            islands[k].evaluations += rows.count
            let d = nextPopulations[k].dimension
            let evaluatedPopulation = islands[k].population  // shares the buffer: no copy
            evaluatedPopulation.genes.withUnsafeBufferPointer { genes in
                islands[k].record(weights: UnsafeBufferPointer(rebasing: genes[rows.lowerBound * d ..< rows.upperBound * d]),
                                  fitness: Array(evaluatedPopulation.fitness[rows]))
            }
            evaluated += rows.count
        }
        return evaluated
    }

    /// Whether the edge carries migrants in `generation` (drawn from the destination's stream, so
    /// sender and receiver agree without a message).
    func fires(_ edge: Topology.Edge, generation: Int) -> Bool {
        if edge.probability >= 1 { return true }
        var stream = RandomStream(seed: config.seed, island: edge.destination, generation: generation, purpose: "migration-edge#\(edge.source)")
        return stream.uniform() < edge.probability
    }

    /// Migration after `generation`: each island's emigrants go along every firing edge; islands on
    /// this rank receive by copy, others by one `exchange` of all messages. Arrivals are placed in
    /// edge order (by source) with the configured replacement policy.
    ///
    /// - Returns: bytes this rank sent to other ranks.
    @discardableResult
    func migrate(generation: Int) throws -> Int {
        let firing = topology.edges.filter { fires($0, generation: generation) }
        guard !firing.isEmpty, emigrantCount > 0 else { return 0 }
        let me = communicator.rank
        var slot: [Int: Int] = [:]
        for (k, island) in islands.enumerated() { slot[island.index] = k }

        // Emigrants of every local island that sends, chosen before anyone receives.
        var outgoing: [Int: [UInt8]] = [:]
        for edge in firing where slot[edge.source] != nil && outgoing[edge.source] == nil {
            let island = islands[slot[edge.source]!]
            var stream = RandomStream(seed: config.seed, island: island.index, generation: generation, purpose: "emigrants")
            let emigrants = config.migration.emigrants.emigrants(of: island.population, count: emigrantCount, stream: &stream)
            var writer = ByteWriter()
            writer.append(emigrants)
            outgoing[edge.source] = writer.bytes
        }

        // Remote messages: one receive buffer per incoming remote edge, in edge order.
        let messageSize = Self.messageSize(count: emigrantCount, dimension: islands[0].population.dimension)
        let remoteIn = firing.filter { slot[$0.destination] != nil && placement.rank(of: $0.source) != me }
        let remoteOut = firing.filter { slot[$0.source] != nil && placement.rank(of: $0.destination) != me }
        var inbox = [UInt8](repeating: 0, count: remoteIn.count * messageSize)
        var sentBytes = 0
        try withBufferViews(remoteOut.map { outgoing[$0.source]! }) { views in
            try inbox.withUnsafeMutableBufferPointer { box in
                let sends = zip(remoteOut, views).map { OutgoingMessage(to: placement.rank(of: $0.0.destination), tag: 1, values: $0.1) }
                let receives = remoteIn.indices.map { i in
                    IncomingMessage(from: placement.rank(of: remoteIn[i].source), tag: 1,
                                    into: UnsafeMutableBufferPointer(rebasing: box[i * messageSize ..< (i + 1) * messageSize]))
                }
                try communicator.exchange(sends: sends, receives: receives)
            }
            sentBytes = views.reduce(0) { $0 + $1.count }
        }

        // Place arrivals island by island, sources in edge order.
        var remoteIndex = 0
        for edge in firing where slot[edge.destination] != nil {
            let bytes: [UInt8]
            if placement.rank(of: edge.source) == me {
                bytes = outgoing[edge.source]!
            } else {
                bytes = Array(inbox[remoteIndex * messageSize ..< (remoteIndex + 1) * messageSize])
                remoteIndex += 1
            }
            var reader = ByteReader(bytes, source: "migrants from island \(edge.source)")
            let immigrants = try reader.readPopulation()
            let k = slot[edge.destination]!
            islands[k].population.insert(immigrants: immigrants, replacement: config.migration.immigrants.policy)
            islands[k].bytesReceived += bytes.count
        }
        return sentBytes
    }

    /// Bytes of a migration message of `count` genomes of `dimension` genes (`ByteWriter` layout).
    static func messageSize(count k: Int, dimension d: Int) -> Int {
        16 + (8 + 4 * k * d) + (8 + 4 * k) + (8 + 8 * k) + (8 + 4 * k)
    }
}
