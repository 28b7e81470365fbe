import Evolution
import Foundation
import MetaLearning

// n = genes, m = the meta-learner's latent size (K · d_z), c = codes measured per island.

/// The meta-learner in the anchored latent (`latent.mode: anchored` with `decoder_share` or
/// `focus_share`): islands stay on SNES in the anchored latent (`AnchoredSearch`); the
/// meta-learner, trained on archive deltas `g − μ` from each island's anchor `μ` (its SNES mean),
/// decodes the residuals `r = D(ρ ⊙ w) − D(0)` its decoder rows add, and its encoder's attention
/// weighs the neurons of its focused rows.
final class AnchoredLatentDesign: MetaLearnerDesign {
    let metaLearner: MetaLearner
    let config: RunConfig
    let schedule: MetaLearnerSchedule

    init(metaLearner: MetaLearner, config: RunConfig) {
        self.metaLearner = metaLearner
        self.config = config
        schedule = MetaLearnerSchedule(config: config)
    }

    /// Always weight space: the islands' rows are networks.
    var phase: SearchPhase { .weights }

    func isTrainingRound(generation: Int) -> Bool { schedule.isTrainingRound(generation: generation, phase: phase) }

    /// `nil`: the island evolves itself (the decoding happens in `AnchoredSearch.ask`).
    func evolve(_ island: inout Island, key: StreamKey, with evaluator: CandidateEvaluator) throws -> Int? { nil }

    /// A training round after `generation`: `meta.steps` steps in which every island contributes
    /// a minibatch of its archive as deltas from its current anchor, summed over all islands
    /// exactly (`MetaLearner.train`). Then, on each island:
    /// - `ρ` ← the spread of the codes of its newest `c = min(P, archive)` deltas, coordinate by
    ///   coordinate (`ρ_i = sd_b E(g_b − μ)_i`, at least 10⁻⁶), and the decoder rows turn on;
    /// - focus: each neuron's weight is the encoder's attention on its tokens over those `c`
    ///   deltas, per token (`a_i = (1/c) Σ_b Σ_{t ∈ i} A_bt / |i|`, `A` from
    ///   `AttentionAutoencoder.tokenAttention`, at least 10⁻¹²), and the focused rows turn on;
    /// - retention: its best 8 archived genomes `g` against `μ + D(E(g − μ))`, scored on the task
    ///   (test accuracy for classifiers), not counted as evaluations.
    ///
    /// - Returns: the round (phase `anchored`), no evaluations.
    func round(after generation: Int, in archipelago: Archipelago) throws -> MetaRound {
        let (network, task) = (archipelago.evaluator.network, archipelago.evaluator.task)
        let n = network.parameterCount
        var anchors: [Int: [Float]] = [:]
        for island in archipelago.islands { anchors[island.index] = island.search.anchor }
        let (terms, allreduceSeconds) = try metaLearner.train(
            islands: archipelago.islands, generation: generation, communicator: archipelago.communicator,
            anchors: anchors)

        var local: [IslandRoundResult] = []
        for k in archipelago.islands.indices {
            let index = archipelago.islands[k].index
            guard let archive = archipelago.islands[k].archive, let anchor = anchors[index], archive.count > 0 else {
                continue
            }
            let c = min(config.islands.population, archive.count)
            var deltas = [Float]()
            deltas.reserveCapacity(c * n)
            for i in archive.count - c..<archive.count {
                let genome = archive.record(i).genome
                for j in 0..<n { deltas.append(genome[j] - anchor[j]) }
            }
            archipelago.islands[k].search.follow(
                MetaGuidance(
                    focus: config.latent.usesAttentionFocus ? focus(deltas, count: c) : nil,
                    decoderStepSizes: config.latent.usesResidualDecoder ? spread(deltas, count: c) : nil))

            // Retention of the island's best archived genomes through the decoder.
            let fitness = (0..<archive.count).map { archive.fitness(of: $0) }
            let best = Population.ranking(fitness).prefix(min(8, archive.count))
            var originals = [Float]()
            var bestDeltas = [Float]()
            for i in best {
                let genome = archive.record(i).genome
                originals += genome
                for j in 0..<n { bestDeltas.append(genome[j] - anchor[j]) }
            }
            var rebuilt = metaLearner.decode(metaLearner.encode(bestDeltas, count: best.count), count: best.count)
            for b in 0..<best.count { for j in 0..<n { rebuilt[b * n + j] += anchor[j] } }
            let report = try Retention.compare(
                original: originals, decoded: rebuilt, batch: best.count, network: network, task: task,
                generation: generation, seed: config.seed)
            let kept = report.accuracyRetention ?? report.fitnessRetention ?? 0
            local.append(
                IslandRoundResult(
                    island: index, retention: kept.isFinite ? kept : 0, terms: terms[index]!))
        }
        let record = MetaRoundRecord(
            generation: generation, phase: "anchored", steps: config.meta.steps,
            results: try IslandRoundResult.gather(local, communicator: archipelago.communicator), evaluations: 0)
        return MetaRound(record: record, evaluated: 0, allreduceSeconds: allreduceSeconds)
    }

    /// Each neuron's weight: the encoder's mean attention per token over `count` deltas.
    func focus(_ deltas: [Float], count c: Int) -> (weights: [Float], geneNeurons: [Int32]) {
        let tokenizer = metaLearner.tokenizer
        let T = tokenizer.tokenCount
        let attention = metaLearner.model.tokenAttention(genomes: deltas, batch: c, tokenizer: tokenizer)
        var perToken = [Float](repeating: 0, count: T)
        for b in 0..<c { for t in 0..<T { perToken[t] += attention[b * T + t] / Float(c) } }
        let sums = tokenizer.neuronAttention(perToken, batch: 1)
        let weights = sums.indices.map { i in max(sums[i] / Float(tokenizer.neuronTokens(i).count), 1e-12) }
        return (weights, tokenizer.geneNeurons)
    }

    /// `ρ`: the standard deviation of each latent coordinate over the codes of `count` deltas.
    func spread(_ deltas: [Float], count c: Int) -> [Float] {
        let m = metaLearner.latentSize
        let codes = metaLearner.encode(deltas, count: c)
        var spread = [Float](repeating: 0, count: m)
        for i in 0..<m {
            var sum = 0.0
            var squares = 0.0
            for b in 0..<c {
                sum += Double(codes[b * m + i])
                squares += Double(codes[b * m + i]) * Double(codes[b * m + i])
            }
            let mean = sum / Double(c)
            spread[i] = Float(max((max(squares / Double(c) - mean * mean, 0)).squareRoot(), 1e-6))
        }
        return spread
    }
}
