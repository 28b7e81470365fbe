import Evolution
import Foundation
import MetaLearning

// n = genes, m = the meta-learner's latent size (K · d_z), c = codes measured per island.

/// The meta-learner in the anchored latent: trained on archive deltas `g − μ` from each island's
/// anchor `μ` (its SNES mean), it decodes the corrections `r = D(ρ ⊙ w) − D(0)` that
/// `SubspaceSNES` adds to its decoder rows, and its encoder's attention weighs the neurons of its
/// focused rows.
extension Archipelago {
    /// The anchored strategy of island `k` (`nil` for any other algorithm).
    func anchoredStrategy(_ k: Int) -> SubspaceSNES? {
        (islands[k].algorithm as? StrategyAlgorithm<SubspaceSNES>)?.strategy
    }

    /// Decodes the residuals island `k`'s strategy asked for in this generation and adds them to
    /// its candidates: one batch of the requested latents and a zero latent, `r_b = D(ρ ⊙ w_b) − D(0)`.
    ///
    /// - Returns: the seconds spent decoding.
    func addResiduals(island k: Int) throws -> Double {
        guard let latent, var algorithm = islands[k].algorithm as? StrategyAlgorithm<SubspaceSNES>,
            let request = algorithm.strategy.residualRequest
        else { return 0 }
        let n = network.parameterCount
        let m = latent.latentSize
        let rows = request.rows.count
        var seconds = 0.0
        let decoded = latent.decode(
            request.latents + [Float](repeating: 0, count: m), count: rows + 1, timing: &seconds)
        var corrections = [Float](repeating: 0, count: rows * n)
        for b in 0..<rows {
            for j in 0..<n { corrections[b * n + j] = decoded[b * n + j] - decoded[rows * n + j] }
        }
        algorithm.withStrategy { $0.addResiduals(corrections, to: &islands[k].population) }
        islands[k].algorithm = algorithm
        return seconds
    }

    /// A training round of the anchored latent's meta-learner after `generation`: `meta.steps` steps in which
    /// every island contributes a minibatch of its archive as deltas from its current anchor,
    /// summed over all islands exactly (`LatentSpace.train`). Then, on each island:
    /// - `ρ` ← the spread of the codes of its newest `c = min(P, archive)` deltas, coordinate by
    ///   coordinate (`ρ_i = sd_b E(g_b − μ)_i`, at least 10⁻⁶), and the decoder rows turn on;
    /// - focus: each neuron's weight is the encoder's attention on its tokens over those `c`
    ///   deltas, per token (`a_i = (1/c) Σ_b Σ_{t ∈ i} A_bt / |i|`, `A` from
    ///   `AttentionAutoencoder.tokenAttention`, at least 10⁻¹²), and the focused rows turn on;
    /// - retention: its best 8 archived genomes `g` against `μ + D(E(g − μ))`, scored on the task
    ///   (test accuracy for classifiers), not counted as evaluations.
    ///
    /// - Returns: the round's record (phase `anchored`), no evaluations, and the allreduce seconds.
    func anchoredRound(generation: Int) throws -> (record: MetaRoundRecord, evaluated: Int, allreduceSeconds: Double) {
        guard let latent else { preconditionFailure("a training round without a meta-learner") }
        let n = network.parameterCount
        let m = latent.latentSize
        var anchors: [Int: [Float]] = [:]
        for k in islands.indices { anchors[islands[k].index] = anchoredStrategy(k)?.mean }
        let (terms, allreduceSeconds) = try latent.train(
            islands: islands, generation: generation, communicator: communicator, anchors: anchors)

        var local: [IslandRoundResult] = []
        for k in islands.indices {
            guard let archive = islands[k].archive, let anchor = anchors[islands[k].index], archive.count > 0 else {
                continue
            }
            // ρ from the spread of the newest codes.
            let c = min(config.islands.population, archive.count)
            var deltas = [Float]()
            deltas.reserveCapacity(c * n)
            for i in archive.count - c..<archive.count {
                let genome = archive.record(i).genome
                for j in 0..<n { deltas.append(genome[j] - anchor[j]) }
            }
            var algorithm = islands[k].algorithm as! StrategyAlgorithm<SubspaceSNES>
            if config.latent.usesAttentionFocus {
                let tokenizer = latent.tokenizer
                let T = tokenizer.tokenCount
                let attention = latent.model.tokenAttention(genomes: deltas, batch: c, tokenizer: tokenizer)
                var perToken = [Float](repeating: 0, count: T)
                for b in 0..<c { for t in 0..<T { perToken[t] += attention[b * T + t] / Float(c) } }
                let sums = tokenizer.neuronAttention(perToken, batch: 1)
                let weights = sums.indices.map { i in max(sums[i] / Float(tokenizer.neuronTokens(i).count), 1e-12) }
                algorithm.withStrategy { $0.activateFocus(weights: weights, geneNeurons: tokenizer.geneNeurons) }
            }
            if config.latent.usesResidualDecoder {
                let codes = latent.encode(deltas, count: c)
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
                algorithm.withStrategy { $0.activateDecoder(stepSizes: spread) }
            }
            islands[k].algorithm = algorithm

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
            var rebuilt = latent.decode(latent.encode(bestDeltas, count: best.count), count: best.count)
            for b in 0..<best.count { for j in 0..<n { rebuilt[b * n + j] += anchor[j] } }
            let report = try Retention.compare(
                original: originals, decoded: rebuilt, batch: best.count, network: network, task: task,
                generation: generation, seed: config.seed)
            let kept = report.accuracyRetention ?? report.fitnessRetention ?? 0
            local.append(
                IslandRoundResult(
                    island: islands[k].index, retention: kept.isFinite ? kept : 0, terms: terms[islands[k].index]!))
        }
        let results = try communicator.allgatherStrings(
            String(decoding: try JSONEncoder().encode(local), as: UTF8.self)
        )
        .flatMap { try JSONDecoder().decode([IslandRoundResult].self, from: Data($0.utf8)) }
        .sorted { $0.island < $1.island }
        func mean(_ value: (IslandRoundResult) -> Double) -> Double {
            results.isEmpty ? 0 : results.reduce(0) { $0 + value($1) } / Double(results.count)
        }
        let record = MetaRoundRecord(
            generation: generation, phase: "anchored", steps: config.meta.steps,
            reconstruction: mean(\.terms.reconstruction),
            behaviour: mean(\.terms.behaviour), gap: mean(\.terms.gap), head: mean(\.terms.head),
            retention: mean(\.retention), evaluations: 0)
        return (record, 0, allreduceSeconds)
    }
}
