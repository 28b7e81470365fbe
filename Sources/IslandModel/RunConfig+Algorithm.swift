import Evolution
import Foundation
import MetaLearning
import Networks

/// The one place that builds island algorithms from the config, each in the form its candidates
/// take (`IslandSearch`): genome rows, rows awaiting a decoded residual, or low-rank codes.
extension RunConfig {
    /// The search an island starts with once its generation 0 is evaluated: the GA of
    /// `evolution`, or an evolution strategy (λ = `islands.population`) whose first mean is `best`,
    /// the best network of generation 0, and whose first step size is `evolution.sigma0`; with
    /// `latent.mode: anchored`, SNES in the anchored latent space (`SubspaceSNES`); EGGROLL on
    /// codes (`codeSearch`). The strategies that move a mean take `evolution.optimizer` and
    /// `evolution.shaping` (`meanOptimizer`).
    func islandSearch(best mean: [Float], network: Network) -> any IslandSearch {
        let lambda = islands.population
        let sigma0 = evolution.sigma0
        let optimizer = evolution.meanOptimizer(dimension: mean.count)
        switch evolution.algorithm {
        case .ga:
            return GenomeSearch(evolution.geneticAlgorithm())
        case .snes where latent.enabled && latent.mode == .anchored:
            let a = latent.anchored
            return AnchoredSearch(
                strategy: StrategyAlgorithm(
                    SubspaceSNES(
                        mean: mean, stepSize: sigma0, latentStepSize: a.sigma0 ?? 10 * sigma0, latentSize: a.dimension,
                        rebuildEvery: a.rebuildEvery, populationSize: lambda, fullShare: a.fullShare,
                        latentShare: a.latentShare,
                        learningRateMean: evolution.learningRateMean, learningRateSigma: evolution.learningRateSigma,
                        decoderShare: a.decoderShare, decoderLatentSize: meta.architecture.latentSize,
                        focusShare: a.focusShare,
                        focusNeurons: a.focusShare > 0
                            ? max(
                                1,
                                Int(
                                    (a.focusNeurons
                                        * Double(Tokenizer(layout: network.layout, tokenValues: 1).neuronCount))
                                        .rounded())) : 0,
                        evaluatesCenter: evolution.evaluatesCenter, optimizer: optimizer)))
        case .snes:
            return GenomeSearch(
                StrategyAlgorithm(
                    SNES(
                        mean: mean, stepSize: sigma0, populationSize: lambda,
                        learningRateMean: evolution.learningRateMean, learningRateSigma: evolution.learningRateSigma,
                        evaluatesCenter: evolution.evaluatesCenter, shaping: evolution.strategyShaping,
                        optimizer: optimizer
                    )))
        case .pgpe:
            return GenomeSearch(
                StrategyAlgorithm(
                    PGPE(
                        mean: mean, stepSize: sigma0, sampleCount: lambda, optimizer: optimizer!,
                        shaping: evolution.strategyShaping ?? .centredRanks,
                        learningRateSigma: evolution.learningRateSigma ?? 0.1,
                        maxSigmaChange: evolution.sigmaMaxChange, evaluatesCenter: evolution.evaluatesCenter)))
        case .openes:
            return GenomeSearch(
                StrategyAlgorithm(
                    OpenAIES(
                        mean: mean, stepSize: sigma0, sampleCount: lambda, optimizer: optimizer!,
                        shaping: evolution.strategyShaping ?? .centredRanks, evaluatesCenter: evolution.evaluatesCenter)
                ))
        case .cmaes:
            return GenomeSearch(StrategyAlgorithm(CMAES(mean: mean, stepSize: Double(sigma0), populationSize: lambda)))
        case .sepCMAES:
            return GenomeSearch(
                StrategyAlgorithm(SepCMAES(mean: mean, stepSize: Double(sigma0), populationSize: lambda)))
        case .eggroll:
            return codeSearch(best: mean, network: network)
        }
    }

    /// EGGROLL (`LowRankES`) on low-rank codes, whose first mean is `best`.
    func codeSearch(best mean: [Float], network: Network) -> CodeSearch {
        CodeSearch(
            lowRank: LowRankES(
                mean: mean, blocks: Self.lowRankBlocks(network.layout), rank: evolution.rank,
                stepSize: evolution.sigma0,
                populationSize: islands.population, learningRateMean: evolution.learningRateMean,
                shaping: evolution.strategyShaping, optimizer: evolution.meanOptimizer(dimension: mean.count),
                center: evolution.evaluatesCenter, learningRateSigma: evolution.learningRateSigma ?? 0,
                maxSigmaChange: evolution.sigmaMaxChange, guidedRank: evolution.guidedRank,
                guidedShare: evolution.guidedShare))
    }

    /// `LowRankES`'s blocks of a network: every weight tensor of two or more dimensions as a
    /// matrix `[out × rest]` (a conv kernel `[out, in, k, k]` as `[out × in·k·k]`), every bias as
    /// a vector.
    static func lowRankBlocks(_ layout: ParameterLayout) -> [LowRankBlock] {
        layout.tensors.map { tensor in
            LowRankGenomes.isMatrix(tensor)
                ? LowRankBlock(
                    offset: tensor.offset, rows: tensor.shape[0], columns: tensor.count / tensor.shape[0],
                    isMatrix: true)
                : LowRankBlock(offset: tensor.offset, rows: tensor.count, columns: 1, isMatrix: false)
        }
    }

    /// Whether islands keep codes instead of genomes and evaluate them decoded in tiles
    /// (`evolution.algorithm: eggroll`).
    var decodesCodes: Bool { evolution.algorithm == .eggroll }

    /// Reads an island's checkpointed search, of the type `islandSearch` makes.
    func readIslandSearch(_ data: Data, _ decoder: JSONDecoder = JSONDecoder()) throws -> any IslandSearch {
        switch evolution.algorithm {
        case .ga: return GenomeSearch(try decoder.decode(GeneticAlgorithm.self, from: data))
        case .snes where latent.enabled && latent.mode == .anchored:
            return AnchoredSearch(strategy: try decoder.decode(StrategyAlgorithm<SubspaceSNES>.self, from: data))
        case .snes: return GenomeSearch(try decoder.decode(StrategyAlgorithm<SNES>.self, from: data))
        case .cmaes: return GenomeSearch(try decoder.decode(StrategyAlgorithm<CMAES>.self, from: data))
        case .sepCMAES: return GenomeSearch(try decoder.decode(StrategyAlgorithm<SepCMAES>.self, from: data))
        case .eggroll: return CodeSearch(lowRank: try decoder.decode(LowRankES.self, from: data))
        case .pgpe: return GenomeSearch(try decoder.decode(StrategyAlgorithm<PGPE>.self, from: data))
        case .openes: return GenomeSearch(try decoder.decode(StrategyAlgorithm<OpenAIES>.self, from: data))
        }
    }
}
