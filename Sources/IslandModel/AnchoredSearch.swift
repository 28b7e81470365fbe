import Evolution

// n = genes, m = the meta-learner's latent size (K · d_z), b = decoder rows of a generation.

/// SNES in the anchored latent (`SubspaceSNES`) on genome rows, some of which await a decoded
/// residual: after the ask, its decoder rows get `r_b = D(ρ ⊙ w_b) − D(0)` from the
/// meta-learner (one batch of the requested latents and a zero latent), and the anchored
/// design's rounds set its anchor's `ρ` and focus weights (`follow`).
struct AnchoredSearch: IslandSearch {
    var strategy: StrategyAlgorithm<SubspaceSNES>

    var algorithm: any IslandAlgorithm { strategy }

    mutating func ask(
        _ population: inout Population, scratch: inout Population, key: StreamKey, with evaluator: CandidateEvaluator
    ) -> Range<Int> {
        let asked = strategy.nextGeneration(&population, scratch: &scratch, key: key)
        if let metaLearner = evaluator.metaLearner, let request = strategy.strategy.residualRequest {
            let n = population.dimension
            let b = request.rows.count
            let decoded = evaluator.decode(
                request.latents + [Float](repeating: 0, count: metaLearner.latentSize), count: b + 1, with: metaLearner)
            var corrections = [Float](repeating: 0, count: b * n)
            for r in 0..<b {
                for j in 0..<n { corrections[r * n + j] = decoded[r * n + j] - decoded[b * n + j] }
            }
            strategy.withStrategy { $0.addResiduals(corrections, to: &population) }
        }
        return asked
    }

    /// The SNES mean μ.
    var anchor: [Float]? { strategy.strategy.mean }

    mutating func follow(_ guidance: MetaGuidance) {
        if let focus = guidance.focus {
            strategy.withStrategy { $0.activateFocus(weights: focus.weights, geneNeurons: focus.geneNeurons) }
        }
        if let stepSizes = guidance.decoderStepSizes {
            strategy.withStrategy { $0.activateDecoder(stepSizes: stepSizes) }
        }
    }
}
