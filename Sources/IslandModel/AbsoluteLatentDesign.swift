import Evolution
import Kernels
import MetaLearning
import Tasks

// L = the meta-learner's latent size (K · d_z), D = genes, P = population, n = children evaluated.

/// The absolute latent (`latent.mode: absolute`, the GA only): warm-up in weight space, then
/// training rounds after which every island's population is encoded into the meta-learner's
/// latent codes while decoded networks keep enough fitness (`MetaLearnerSchedule`). In the latent
/// phase the GA breeds latents with the latent mutation's σ and rate; a share of the children is
/// decoded, mutated in weight space and re-encoded; with `latent.surrogate_factor` the fitness
/// head pre-screens a larger brood.
final class AbsoluteLatentDesign: MetaLearnerDesign {
    let metaLearner: MetaLearner
    let config: RunConfig
    let schedule: MetaLearnerSchedule
    /// The GA in the latent space: the same operators with the latent mutation's σ and rate.
    let latentAlgorithm: GeneticAlgorithm
    private(set) var phase: SearchPhase

    init(metaLearner: MetaLearner, config: RunConfig, phase: SearchPhase) {
        self.metaLearner = metaLearner
        self.config = config
        self.phase = phase
        schedule = MetaLearnerSchedule(config: config)
        var latentGA = config.evolution.geneticAlgorithm(sigma: config.latent.mutationSigma)
        latentGA.mutation = Mutation(kind: latentGA.mutation.kind, genes: .rate(config.latent.mutationRate))
        latentAlgorithm = latentGA
    }

    func isTrainingRound(generation: Int) -> Bool { schedule.isTrainingRound(generation: generation, phase: phase) }

    /// One generation in latent space (`nil` in weight space): latents bred by the GA; a share of
    /// the children decoded, mutated in weight space and re-encoded; every child decoded and
    /// evaluated (with minibatch fitness, the elites too).
    func evolve(_ island: inout Island, key: StreamKey, with evaluator: CandidateEvaluator) throws -> Int? {
        guard phase == .latent else { return nil }
        let (network, task) = (evaluator.network, evaluator.task)
        let weightMutation = Mutation(
            kind: .gaussian(sigma: config.evolution.mutationSigma), genes: .rate(config.evolution.mutationRate))
        let L = metaLearner.latentSize
        let D = network.parameterCount
        let bred = latentAlgorithm.breedGeneration(parents: island.population, into: &island.scratch, key: key)
        if config.latent.surrogateFactor > 1 {
            prescreen(into: &island.scratch, rows: bred, parents: island.population, key: key)
        }
        let shared = Int((config.latent.weightSpaceShare * Double(bred.count)).rounded())
        if shared > 0 {
            let first = bred.lowerBound
            var weights = evaluator.decode(
                Array(island.scratch.genes[first * L..<(first + shared) * L]), count: shared, with: metaLearner)
            weights.withUnsafeMutableBufferPointer { all in
                for i in 0..<shared {
                    var stream = RandomStream(
                        seed: key.seed, island: key.island, generation: key.generation, purpose: "weight-mutation#\(i)")
                    var step: Float = 0
                    weightMutation.apply(
                        to: UnsafeMutableBufferPointer(rebasing: all[i * D..<(i + 1) * D]), stepSize: &step,
                        belowMean: false, random: &stream)
                }
            }
            let reencoded = metaLearner.encode(weights, count: shared)
            island.scratch.genes.replaceSubrange(first * L..<(first + shared) * L, with: reencoded)
        }
        // Minibatch fitness: the elites are scored again on this generation's batch, and the
        // island's best is this generation's (as in weight space).
        let rows = task.rescoresSurvivors ? 0..<island.scratch.count : bred
        let n = rows.count
        if task.rescoresSurvivors { island.history.bestFitness = -.infinity }
        let weights = evaluator.decode(
            Array(island.scratch.genes[rows.lowerBound * L..<rows.upperBound * L]), count: n, with: metaLearner)
        let fitness = try task.evaluate(
            genomes: weights, populationSize: n, network: network, generation: key.generation, seed: key.seed)
        for (offset, row) in rows.enumerated() { island.scratch.fitness[row] = fitness[offset] }
        swap(&island.population, &island.scratch)
        island.history.evaluations += n
        weights.withUnsafeBufferPointer { island.record(weights: $0, fitness: fitness) }
        return n
    }

    /// Surrogate pre-screening: breeds `surrogate_factor × n` children from the same streams (the
    /// first `n` are the children `breedGeneration` made), ranks them by the fitness head's
    /// prediction, and keeps the best `n` in `rows` (ties: the lower index).
    func prescreen(into next: inout Population, rows: Range<Int>, parents: Population, key: StreamKey) {
        var pool = Population(count: rows.count * config.latent.surrogateFactor, dimension: next.dimension)
        latentAlgorithm.breed(parents: parents, into: &pool, key: key)
        let predicted = pool.genes.withUnsafeBufferPointer {
            Array(metaLearner.model.fitnessHead.forward(latents: $0.baseAddress!, batch: pool.count))
        }
        for (offset, index) in Population.ranking(predicted).prefix(rows.count).enumerated() {
            next.copyIndividual(index, of: pool, to: rows.lowerBound + offset)
        }
    }

    /// A training round after `generation`, then the schedule's decision: enter the latent phase
    /// if decoded genomes keep enough fitness, re-encode if already there, or fall back to weight
    /// space if they no longer do. Retention is measured on each island's 8 best genomes
    /// (test accuracy for classifiers, where a cross-entropy ratio says little near chance;
    /// fitness otherwise) and averaged over all islands in island order.
    func round(after generation: Int, in archipelago: Archipelago) throws -> MetaRound {
        let (network, task) = (archipelago.evaluator.network, archipelago.evaluator.task)
        let P = config.islands.population
        // Every island's population in weight space, decoded with the meta-learner before training.
        let current: [[Float]] = archipelago.islands.map {
            phase == .weights ? $0.population.genes : metaLearner.decode($0.population.genes, count: P)
        }
        let (terms, allreduceSeconds) = try metaLearner.train(
            islands: archipelago.islands, generation: generation, communicator: archipelago.communicator)

        let r = min(8, P)
        var local: [IslandRoundResult] = []
        for (k, island) in archipelago.islands.enumerated() {
            let best = island.population.ranking().prefix(r)
            let originals = best.flatMap { i in
                current[k][i * network.parameterCount..<(i + 1) * network.parameterCount]
            }
            let report = try Retention.measure(
                model: metaLearner.model, genomes: originals, batch: r, network: network, task: task,
                generation: generation, seed: config.seed)
            let kept = report.accuracyRetention ?? report.fitnessRetention ?? 0
            local.append(
                IslandRoundResult(
                    island: island.index, retention: kept.isFinite ? kept : 0, terms: terms[island.index]!))
        }
        var record = MetaRoundRecord(
            generation: generation, phase: phase.rawValue, steps: config.meta.steps,
            results: try IslandRoundResult.gather(local, communicator: archipelago.communicator), evaluations: 0)

        let decision = schedule.decision(retention: record.retention, phase: phase)
        var evaluated = 0
        for k in archipelago.islands.indices {
            switch decision {
            case .encode:
                // Enter (or stay in) latent space: z ← encode(current weights), scored as decoded.
                let z = metaLearner.encode(current[k], count: P)
                let decoded = metaLearner.decode(z, count: P)
                let fitness = try task.evaluate(
                    genomes: decoded, populationSize: P, network: network, generation: generation, seed: config.seed)
                archipelago.islands[k].population = archipelago.islands[k].population.replacingGenes(
                    z, dimension: metaLearner.latentSize, fitness: fitness)
                archipelago.islands[k].history.evaluations += P
                decoded.withUnsafeBufferPointer { archipelago.islands[k].record(weights: $0, fitness: fitness) }
                evaluated += P
            case .fallBack:
                // Fall back: the weights decoded before training, with the fitness they were scored at.
                archipelago.islands[k].population = archipelago.islands[k].population.replacingGenes(
                    current[k], dimension: network.parameterCount, fitness: archipelago.islands[k].population.fitness)
            case .stay:
                break
            }
            archipelago.islands[k].scratch = Island.scratch(
                archipelago.islands[k].population, archipelago.islands[k].search)
        }
        switch decision {
        case .encode: phase = .latent
        case .fallBack: phase = .weights
        case .stay: break
        }
        record.phase = phase.rawValue
        record.evaluations = decision == .encode ? P * config.islands.count : 0
        return MetaRound(record: record, evaluated: evaluated, allreduceSeconds: allreduceSeconds)
    }
}
