import Evolution
import Foundation
import Kernels
import MetaLearning
import Tasks

/// What one meta-learner training round did (a line of `meta.jsonl`).
public struct MetaRoundRecord: Codable, Equatable, Sendable {
    public var generation: Int
    /// The phase after the round.
    public var phase: String
    public var steps: Int
    /// Raw loss terms, averaged over the round's steps and over all islands.
    public var reconstruction: Double
    public var behaviour: Double
    public var gap: Double
    public var head: Double
    /// Mean fitness retention of decode(encode(g)) over each island's best genomes.
    public var retention: Double
    /// Evaluations spent re-scoring re-encoded populations.
    public var evaluations: Int
}

/// One island's part of a training round, gathered from every rank.
struct IslandRoundResult: Codable {
    var island: Int
    /// Fitness (or test-accuracy) retention of decode(encode(g)) over the island's best genomes.
    var retention: Double
    /// The island's raw loss terms, averaged over the round's steps.
    var terms: MetaLossTerms
}

extension Archipelago {
    /// One generation in latent space: latents bred by the GA; a share of the children decoded,
    /// mutated in weight space and re-encoded; every child decoded and evaluated (with minibatch
    /// fitness, the elites too).
    func breedAndEvaluateLatent(generation: Int) throws -> Int {
        guard let latent else { preconditionFailure("latent phase without a meta-learner") }
        let weightMutation = Mutation(
            kind: .gaussian(sigma: config.evolution.mutationSigma), genes: .rate(config.evolution.mutationRate))
        let L = latent.latentSize
        let D = network.parameterCount
        var evaluated = 0
        for k in islands.indices {
            let island = islands[k].index
            let key = StreamKey(seed: config.seed, island: island, generation: generation)
            let bred = latentAlgorithm.breedGeneration(
                parents: islands[k].population, into: &nextPopulations[k], key: key)
            if config.latent.surrogateFactor > 1 {
                prescreen(into: &nextPopulations[k], rows: bred, parents: islands[k].population, key: key)
            }
            let shared = Int((config.latent.weightSpaceShare * Double(bred.count)).rounded())
            if shared > 0 {
                let first = bred.lowerBound
                var weights = latent.decode(
                    Array(nextPopulations[k].genes[first * L..<(first + shared) * L]), count: shared,
                    timing: &decodeSeconds)
                weights.withUnsafeMutableBufferPointer { all in
                    for i in 0..<shared {
                        var stream = RandomStream(
                            seed: config.seed, island: island, generation: generation, purpose: "weight-mutation#\(i)")
                        var step: Float = 0
                        weightMutation.apply(
                            to: UnsafeMutableBufferPointer(rebasing: all[i * D..<(i + 1) * D]), stepSize: &step,
                            belowMean: false, random: &stream)
                    }
                }
                let reencoded = latent.encode(weights, count: shared)
                nextPopulations[k].genes.replaceSubrange(first * L..<(first + shared) * L, with: reencoded)
            }
            // Minibatch fitness: the elites are scored again on this generation's batch, and the
            // island's best is this generation's (as in weight space).
            let rows = task.rescoresSurvivors ? 0..<nextPopulations[k].count : bred
            let n = rows.count
            if task.rescoresSurvivors { islands[k].bestFitness = -.infinity }
            let weights = latent.decode(
                Array(nextPopulations[k].genes[rows.lowerBound * L..<rows.upperBound * L]), count: n,
                timing: &decodeSeconds)
            let fitness = try task.evaluate(
                genomes: weights, populationSize: n, network: network, generation: generation, seed: config.seed)
            for (offset, row) in rows.enumerated() { nextPopulations[k].fitness[row] = fitness[offset] }
            swap(&islands[k].population, &nextPopulations[k])
            islands[k].evaluations += n
            weights.withUnsafeBufferPointer { islands[k].record(weights: $0, fitness: fitness) }
            evaluated += n
        }
        return evaluated
    }

    /// Surrogate pre-screening: breeds `surrogate_factor × n` children from the same streams (the
    /// first `n` are the children `breedGeneration` made), ranks them by the fitness head's
    /// prediction, and keeps the best `n` in `rows` (ties: the lower index).
    func prescreen(into next: inout Population, rows: Range<Int>, parents: Population, key: StreamKey) {
        guard let latent else { return }
        var pool = Population(count: rows.count * config.latent.surrogateFactor, dimension: next.dimension)
        latentAlgorithm.breed(parents: parents, into: &pool, key: key)
        let predicted = pool.genes.withUnsafeBufferPointer {
            Array(latent.model.fitnessHead.forward(latents: $0.baseAddress!, batch: pool.count))
        }
        for (offset, index) in Population.ranking(predicted).prefix(rows.count).enumerated() {
            next.copyIndividual(index, of: pool, to: rows.lowerBound + offset)
        }
    }

    /// A meta-learner training round after `generation`, then the schedule's decision: enter the
    /// latent phase if decoded genomes keep enough fitness, re-encode if already there, or fall
    /// back to weight space if they no longer do.
    ///
    /// - Returns: the round's record and the evaluations it spent re-scoring populations.
    func metaRound(generation: Int) throws -> (record: MetaRoundRecord, evaluated: Int, allreduceSeconds: Double) {
        guard let latent else { preconditionFailure("a training round without a meta-learner") }
        let P = config.islands.population
        // Every island's population in weight space, decoded with the meta-learner before training.
        let current: [[Float]] = islands.map {
            phase == .weights ? $0.population.genes : latent.decode($0.population.genes, count: P)
        }

        let (terms, allreduceSeconds) = try latent.train(
            islands: islands, generation: generation, communicator: communicator)

        // Retention on each island's best genomes, averaged over all islands in island order.
        let r = min(8, P)
        var local: [IslandRoundResult] = []
        for (k, island) in islands.enumerated() {
            let best = island.population.ranking().prefix(r)
            let originals = best.flatMap { i in
                current[k][i * network.parameterCount..<(i + 1) * network.parameterCount]
            }
            let report = try Retention.measure(
                model: latent.model, genomes: originals, batch: r, network: network, task: task,
                generation: generation, seed: config.seed)
            // Classifiers: test-accuracy retention (a cross-entropy ratio says little near chance); others: fitness.
            let kept = report.accuracyRetention ?? report.fitnessRetention ?? 0
            local.append(
                IslandRoundResult(
                    island: island.index, retention: kept.isFinite ? kept : 0, terms: terms[island.index]!))
        }
        let results = try communicator.allgatherStrings(
            String(decoding: try JSONEncoder().encode(local), as: UTF8.self)
        )
        .flatMap { try JSONDecoder().decode([IslandRoundResult].self, from: Data($0.utf8)) }
        .sorted { $0.island < $1.island }
        func mean(_ value: (IslandRoundResult) -> Double) -> Double {
            results.reduce(0) { $0 + value($1) } / Double(results.count)
        }
        let retention = mean(\.retention)

        let decision = schedule!.decision(retention: retention, phase: phase)
        var evaluated = 0
        switch decision {
        case .encode:
            // Enter (or stay in) latent space: z ← encode(current weights), scored as decoded.
            for k in islands.indices {
                let z = latent.encode(current[k], count: P)
                let decoded = latent.decode(z, count: P)
                let fitness = try task.evaluate(
                    genomes: decoded, populationSize: P, network: network, generation: generation, seed: config.seed)
                islands[k].population = Self.population(
                    islands[k].population, genes: z, dimension: latent.latentSize, fitness: fitness)
                islands[k].evaluations += P
                decoded.withUnsafeBufferPointer { islands[k].record(weights: $0, fitness: fitness) }
                evaluated += P
            }
            phase = .latent
        case .fallBack:
            // Fall back: the weights decoded before training, with the fitness they were scored at.
            for k in islands.indices {
                islands[k].population = Self.population(
                    islands[k].population, genes: current[k], dimension: network.parameterCount,
                    fitness: islands[k].population.fitness)
            }
            phase = .weights
        case .stay:
            break
        }
        nextPopulations = islands.map(Self.scratch)
        let record = MetaRoundRecord(
            generation: generation, phase: phase.rawValue, steps: config.meta.steps,
            reconstruction: mean(\.terms.reconstruction),
            behaviour: mean(\.terms.behaviour), gap: mean(\.terms.gap), head: mean(\.terms.head), retention: retention,
            evaluations: decision == .encode ? P * config.islands.count : 0)
        return (record, evaluated, allreduceSeconds)
    }

    /// `old` with new genes (of another dimension) and fitness; ids and step sizes kept.
    static func population(_ old: Population, genes: [Float], dimension: Int, fitness: [Float]) -> Population {
        var result = Population(count: old.count, dimension: dimension)
        result.genes = genes
        result.fitness = fitness
        result.ids = old.ids
        result.stepSizes = old.stepSizes
        return result
    }
}
