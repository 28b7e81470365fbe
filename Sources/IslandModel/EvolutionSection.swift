import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `evolution:` the algorithm each island runs: the genetic algorithm, SNES, CMA-ES, sep-CMA-ES,
/// EGGROLL, PGPE or OpenAI-ES, with the optimizer and fitness shaping of the strategies that move a
/// mean.
public struct EvolutionSection: Codable, Equatable, Sendable {
    public enum Algorithm: String, Codable, Sendable, CaseIterable {
        case ga, snes, cmaes
        case sepCMAES = "sep_cmaes"
        case eggroll, pgpe, openes

        /// Whether the strategy samples mirrored pairs (λ must then be even).
        var isMirrored: Bool { self == .pgpe || self == .openes }
        /// Whether a mean optimizer and a fitness shaping apply.
        var movesMean: Bool { [.snes, .eggroll, .pgpe, .openes].contains(self) }
    }

    public enum Selection: String, Codable, Sendable, CaseIterable {
        case tournament, rank, roulette, sus
        case steadyState = "steady_state"
        case truncation, random
    }

    public enum CrossoverKind: String, Codable, Sendable, CaseIterable {
        case none
        case onePoint = "one_point"
        case twoPoint = "two_point"
        case uniform, blend, sbx
    }

    public enum MutationKind: String, Codable, Sendable, CaseIterable {
        case gaussian, uniform
        case randomReplacement = "random_replacement"
        case selfAdaptive = "self_adaptive"
    }

    /// `ga`, `snes`, `cmaes`, `sep_cmaes`, `eggroll` (`LowRankES`: low-rank samples, the
    /// population stored as codes), `pgpe` or `openes` (mirrored samples, the mean moved by
    /// `optimizer`). An evolution strategy's λ is `islands.population`; the GA keys below do not
    /// apply to it.
    public var algorithm = Algorithm.ga
    /// Evolution strategies: the first step size σ₀ of every gene (the first mean is the best
    /// network of generation 0).
    public var sigma0: Float = 0.1
    /// SNES: `η_μ` (default 1) and `η_σ` (default `(3 + ln D)/(5√D)`, Schaul et al. 2011); PGPE:
    /// `η_σ` (default 0.1, pgpelib and EvoJAX); eggroll: `η_σ` of one σ per block by PGPE's rule
    /// (default none: σ fixed).
    public var learningRateMean: Float?
    public var learningRateSigma: Float?
    /// PGPE and eggroll: σ changes by at most this share per generation (Sehnke et al.'s clipped
    /// rule: 0.2).
    public var sigmaMaxChange: Float = 0.2
    /// Whether each generation's first candidate is the mean itself (snes, the anchored latent,
    /// pgpe, openes, eggroll). On a task that re-scores every generation (minibatch, episodes) the island's
    /// best is then its evaluated mean, the network the strategy trains. `nil`: true for pgpe and
    /// openes (the network they hand back is their mean), false for snes and eggroll.
    public var center: Bool?
    /// How fitness becomes the strategy's weights: `centred_ranks`, `snes_utilities` or `raw`
    /// (`nil`: centred ranks for pgpe and openes, SNES's utilities for snes and eggroll).
    public var shaping: FitnessShaping?
    /// The optimizer of the mean (`nil`: Adam for pgpe and openes, the plain step for snes, the
    /// anchored latent and eggroll).
    public var optimizer: OptimizerSection?
    /// `eggroll`: the rank r of every weight matrix's change (`A Bᵀ`).
    public var rank = 4
    /// `eggroll`: genomes written out from their codes and evaluated at once, at generation 0 and
    /// where the task cannot score codes directly (`FitnessTask.supportsLowRank`): the only full
    /// genomes of the population that exist at any time.
    public var tile = 8
    /// `eggroll`: the rank q of the guided part of every member's change, drawn in a rank-q basis
    /// per weight matrix learned from the mean's steps (`TrajectoryBasis`; 0: no guidance).
    public var guidedRank = 0
    /// `eggroll` with `guided_rank`: the share α of a matrix's perturbation drawn in that basis.
    public var guidedShare: Float = 0.5
    public var selection = Selection.tournament
    public var tournamentSize = 3
    /// `truncation`: share of the best individuals that may be parents.
    public var truncationFraction = 0.5
    public var crossover = CrossoverKind.uniform
    public var crossoverProbability = 0.9
    public var blendAlpha: Float = 0.5
    public var sbxEta: Float = 15
    public var mutation = MutationKind.gaussian
    /// Gaussian σ (and the first σ of self-adaptive mutation), in weight space.
    public var mutationSigma: Float = 0.05
    /// `uniform` shifts and `random_replacement` values are drawn from `[low, high)`.
    public var mutationLow: Float = -0.5
    public var mutationHigh: Float = 0.5
    /// Share of genes mutated; with `mutation_rate_below_mean` set, PyGAD's adaptive mutation:
    /// individuals below the mean fitness use that (higher) rate.
    public var mutationRate = 0.05
    public var mutationRateBelowMean: Double?
    /// Individuals kept unchanged each generation.
    public var elites = 1
    /// Optional gene bounds `{low, high, handling: clip|reflect}`.
    public var bounds: Bounds?

    public struct Bounds: Codable, Equatable, Sendable {
        public var low: Float
        public var high: Float
        public var handling: GeneBounds.Handling
    }

    public init() {}

    enum CodingKeys: String, ConfigKey {
        case algorithm, sigma0
        case learningRateMean = "learning_rate_mean"
        case learningRateSigma = "learning_rate_sigma"
        case center, rank, tile
        case guidedRank = "guided_rank"
        case guidedShare = "guided_share"
        case sigmaMaxChange = "sigma_max_change"
        case shaping, optimizer
        case selection
        case tournamentSize = "tournament_size"
        case truncationFraction = "truncation_fraction"
        case crossover
        case crossoverProbability = "crossover_probability"
        case blendAlpha = "blend_alpha"
        case sbxEta = "sbx_eta"
        case mutation
        case mutationSigma = "mutation_sigma"
        case mutationLow = "mutation_low"
        case mutationHigh = "mutation_high"
        case mutationRate = "mutation_rate"
        case mutationRateBelowMean = "mutation_rate_below_mean"
        case elites, bounds
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = EvolutionSection()
        algorithm = try c.decodeIfPresent(Algorithm.self, forKey: .algorithm) ?? d.algorithm
        sigma0 = try c.decodeIfPresent(Float.self, forKey: .sigma0) ?? d.sigma0
        learningRateMean = try c.decodeIfPresent(Float.self, forKey: .learningRateMean)
        learningRateSigma = try c.decodeIfPresent(Float.self, forKey: .learningRateSigma)
        center = try c.decodeIfPresent(Bool.self, forKey: .center)
        sigmaMaxChange = try c.decodeIfPresent(Float.self, forKey: .sigmaMaxChange) ?? d.sigmaMaxChange
        shaping = try c.decodeIfPresent(FitnessShaping.self, forKey: .shaping)
        optimizer = try c.decodeIfPresent(OptimizerSection.self, forKey: .optimizer)
        rank = try c.decodeIfPresent(Int.self, forKey: .rank) ?? d.rank
        tile = try c.decodeIfPresent(Int.self, forKey: .tile) ?? d.tile
        guidedRank = try c.decodeIfPresent(Int.self, forKey: .guidedRank) ?? d.guidedRank
        guidedShare = try c.decodeIfPresent(Float.self, forKey: .guidedShare) ?? d.guidedShare
        selection = try c.decodeIfPresent(Selection.self, forKey: .selection) ?? d.selection
        tournamentSize = try c.decodeIfPresent(Int.self, forKey: .tournamentSize) ?? d.tournamentSize
        truncationFraction = try c.decodeIfPresent(Double.self, forKey: .truncationFraction) ?? d.truncationFraction
        crossover = try c.decodeIfPresent(CrossoverKind.self, forKey: .crossover) ?? d.crossover
        crossoverProbability =
            try c.decodeIfPresent(Double.self, forKey: .crossoverProbability) ?? d.crossoverProbability
        blendAlpha = try c.decodeIfPresent(Float.self, forKey: .blendAlpha) ?? d.blendAlpha
        sbxEta = try c.decodeIfPresent(Float.self, forKey: .sbxEta) ?? d.sbxEta
        mutation = try c.decodeIfPresent(MutationKind.self, forKey: .mutation) ?? d.mutation
        mutationSigma = try c.decodeIfPresent(Float.self, forKey: .mutationSigma) ?? d.mutationSigma
        mutationLow = try c.decodeIfPresent(Float.self, forKey: .mutationLow) ?? d.mutationLow
        mutationHigh = try c.decodeIfPresent(Float.self, forKey: .mutationHigh) ?? d.mutationHigh
        mutationRate = try c.decodeIfPresent(Double.self, forKey: .mutationRate) ?? d.mutationRate
        mutationRateBelowMean = try c.decodeIfPresent(Double.self, forKey: .mutationRateBelowMean)
        elites = try c.decodeIfPresent(Int.self, forKey: .elites) ?? d.elites
        bounds = try c.decodeIfPresent(Bounds.self, forKey: .bounds)
    }

    func validate(population: Int) throws {
        func fail(_ key: String, _ message: String) -> ConfigError {
            .invalidValue(path: "evolution.\(key)", message: message)
        }
        guard sigma0 > 0 && sigma0.isFinite else {
            throw fail("sigma0", "expected a finite value above 0, got \(sigma0)")
        }
        for (key, rate) in [("learning_rate_mean", learningRateMean), ("learning_rate_sigma", learningRateSigma)] {
            if let rate, !(rate > 0 && rate.isFinite) {
                throw fail(key, "expected a finite value above 0, got \(rate)")
            }
        }
        guard rank >= 1 else { throw fail("rank", "expected at least 1, got \(rank)") }
        if center == true && ![.snes, .pgpe, .openes, .eggroll].contains(algorithm) {
            throw fail(
                "center",
                "the mean as a candidate is built for snes (and the anchored latent), pgpe, openes and eggroll, not \(algorithm.rawValue)"
            )
        }
        guard guidedRank >= 0 else { throw fail("guided_rank", "expected 0 or more, got \(guidedRank)") }
        if guidedRank > 0 && algorithm != .eggroll {
            throw fail("guided_rank", "guided members are built for eggroll, not \(algorithm.rawValue)")
        }
        guard guidedShare >= 0 && guidedShare <= 1 else {
            throw fail("guided_share", "expected a value in [0, 1], got \(guidedShare)")
        }
        if optimizer != nil && !algorithm.movesMean {
            throw fail(
                "optimizer",
                "a mean optimizer applies to snes, eggroll, pgpe and openes (and the anchored latent), not \(algorithm.rawValue)"
            )
        }
        if shaping != nil && !algorithm.movesMean {
            throw fail(
                "shaping",
                "fitness shaping applies to snes, eggroll, pgpe and openes (and the anchored latent), not \(algorithm.rawValue)"
            )
        }
        try optimizer?.validate(path: "evolution.optimizer")
        guard sigmaMaxChange > 0 && sigmaMaxChange < 1 else {
            throw fail("sigma_max_change", "expected a value in (0, 1), got \(sigmaMaxChange)")
        }
        if algorithm.isMirrored && population % 2 != 0 {
            throw ConfigError.invalidValue(
                path: "islands.population",
                message:
                    "\(algorithm.rawValue) samples mirrored pairs: λ = islands.population must be even, got \(population)"
            )
        }
        guard tile >= 1 else { throw fail("tile", "expected at least 1, got \(tile)") }
        if algorithm != .ga, population < 2 {
            throw fail(
                "algorithm", "an evolution strategy needs islands.population (its λ) of at least 2, got \(population)")
        }
        guard tournamentSize >= 1 else { throw fail("tournament_size", "expected at least 1, got \(tournamentSize)") }
        guard algorithm != .ga || selection != .tournament || tournamentSize <= population else {
            throw fail("tournament_size", "expected at most islands.population (\(population)), got \(tournamentSize)")
        }
        guard truncationFraction > 0 && truncationFraction <= 1 else {
            throw fail("truncation_fraction", "expected a value in (0, 1], got \(truncationFraction)")
        }
        guard (0...1).contains(crossoverProbability) else {
            throw fail("crossover_probability", "expected a value in [0, 1], got \(crossoverProbability)")
        }
        guard mutationSigma >= 0 else { throw fail("mutation_sigma", "expected 0 or more, got \(mutationSigma)") }
        guard mutationHigh > mutationLow else {
            throw fail("mutation_high", "expected more than mutation_low (\(mutationLow)), got \(mutationHigh)")
        }
        guard (0...1).contains(mutationRate) else {
            throw fail("mutation_rate", "expected a value in [0, 1], got \(mutationRate)")
        }
        if let below = mutationRateBelowMean, !(0...1).contains(below) {
            throw fail("mutation_rate_below_mean", "expected a value in [0, 1], got \(below)")
        }
        guard elites >= 0 && elites < population else {
            throw fail("elites", "expected 0 to islands.population − 1, got \(elites)")
        }
        if let bounds, !(bounds.high > bounds.low) {
            throw fail("bounds", "expected high > low, got [\(bounds.low), \(bounds.high)]")
        }
    }

    /// Whether each generation's first candidate is the mean (`center`, or the algorithm's default).
    public var evaluatesCenter: Bool { center ?? algorithm.isMirrored }

    /// The fitness shaping of the strategy (`nil`: the algorithm's own, for SNES and EGGROLL).
    var strategyShaping: FitnessShaping? { shaping ?? (algorithm.isMirrored ? .centredRanks : nil) }

    /// The optimizer of the mean over `dimension` genes: the one `optimizer` names, else the
    /// algorithm's default (PGPE and OpenAI-ES: Adam; the others: none, their plain step).
    func meanOptimizer(dimension: Int) -> MeanOptimizer? {
        switch algorithm {
        case .pgpe: return (optimizer ?? OptimizerSection()).make(dimension: dimension, defaults: Self.pgpeOptimizer)
        case .openes:
            return (optimizer ?? OptimizerSection()).make(dimension: dimension, defaults: Self.openESOptimizer)
        default:
            // `make`'s own defaults: Adam at 0.01.
            return optimizer?.make(dimension: dimension, defaults: OptimizerSection())
        }
    }

    /// PGPE's default optimizer: Adam (EvoJAX's PGPE on MNIST) at η 0.01.
    static let pgpeOptimizer = OptimizerSection(kind: .adam, learningRate: 0.01)
    /// OpenAI-ES's: Adam at η 0.01 with weight decay 0.005 (Salimans et al. 2017).
    static let openESOptimizer = OptimizerSection(kind: .adam, learningRate: 0.01, weightDecay: 0.005)

    /// The `Evolution` genetic algorithm these settings describe, with `sigma` as the Gaussian σ.
    public func geneticAlgorithm(sigma: Float? = nil) -> GeneticAlgorithm {
        let parentSelection: ParentSelection =
            switch selection {
            case .tournament: .tournament(size: tournamentSize)
            case .rank: .rank
            case .roulette: .rouletteWheel
            case .sus: .stochasticUniversalSampling
            case .steadyState: .steadyState
            case .truncation: .truncation(fraction: truncationFraction)
            case .random: .random
            }
        let recombination: Crossover =
            switch crossover {
            case .none: .none
            case .onePoint: .onePoint
            case .twoPoint: .twoPoint
            case .uniform: .uniform
            case .blend: .blend(alpha: blendAlpha)
            case .sbx: .simulatedBinary(eta: sbxEta)
            }
        let s = sigma ?? mutationSigma
        let kind: Mutation.Kind =
            switch mutation {
            case .gaussian: .gaussian(sigma: s)
            case .uniform: .uniformShift(low: mutationLow, high: mutationHigh)
            case .randomReplacement: .randomReplacement(low: mutationLow, high: mutationHigh)
            case .selfAdaptive: .selfAdaptive(initialSigma: s, learningRate: nil)
            }
        let genes: Mutation.Genes =
            mutationRateBelowMean.map { .adaptiveRate(aboveMean: mutationRate, belowMean: $0) } ?? .rate(mutationRate)
        return GeneticAlgorithm(
            selection: parentSelection, crossover: recombination, crossoverProbability: crossoverProbability,
            mutation: Mutation(kind: kind, genes: genes),
            bounds: bounds.map { GeneBounds(low: $0.low, high: $0.high, handling: $0.handling) },
            elites: elites, survivors: .generational)
    }
}
