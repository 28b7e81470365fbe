import Foundation
import Kernels

/// Separable natural evolution strategy (T. Schaul, T. Glasmachers, J. Schmidhuber, *High
/// Dimensions and Heavy Tails for Natural Evolution Strategies*, GECCO 2011), with its default
/// learning rates and fitness shaping. Memory and time are `O(λ D)`, so it suits very long genomes.
///
/// Candidates are `xₖ = μ + σ ⊙ zₖ`, `zₖ ~ N(0, I)`. With the candidates ranked best first and the
/// utilities `uₖ = max(0, ln(λ/2 + 1) − ln k) / Σⱼ max(0, ln(λ/2 + 1) − ln j) − 1/λ`:
/// - `∇_μ = Σₖ uₖ z_{k:λ}`, `∇_σ = Σₖ uₖ (z_{k:λ}² − 1)`;
/// - `μ ← μ + η_μ σ ⊙ ∇_μ`, `σ ← σ ⊙ exp(½ η_σ ∇_σ)`;
/// - defaults `λ = 4 + ⌊3 ln D⌋`, `η_μ = 1`, `η_σ = (3 + ln D)/(5 √D)`.
///
/// With an `optimizer` (`MeanOptimizer`: Adam, ClipUp, …) the mean moves by the optimizer's step on
/// `σ ⊙ ∇_μ` instead; with another `shaping` (`FitnessShaping`) its weights replace the `uₖ`.
public struct SNES: EvolutionStrategy, Equatable {
    public let dimension: Int
    public let populationSize: Int
    public let learningRateMean: Float
    public let learningRateSigma: Float
    /// `[λ]` utilities by rank, best first (they sum to zero).
    public let utilities: [Float]
    /// `μ`, `[D]`.
    @Packed public private(set) var mean: [Float]
    /// `σ`, `[D]`, one standard deviation per gene.
    @Packed public private(set) var sigma: [Float]
    /// Whether row 0 of each `ask` is the mean itself (scored with the others; it takes a rank
    /// among the utilities but adds nothing to the gradients: `z = 0`, and no `σ` term).
    public let evaluatesCenter: Bool
    /// How fitness becomes the gradient's weights (`nil`: SNES's own `utilities`).
    public let shaping: FitnessShaping?
    /// What moves the mean along `σ ⊙ ∇_μ` (`nil`: SNES's plain step `η_μ σ ⊙ ∇_μ`).
    public private(set) var optimizer: MeanOptimizer?
    /// The key of the last `ask` (its candidates' ids).
    var sampledKey: StreamKey?

    /// - Parameters:
    ///   - mean: the first mean (its length is `D`).
    ///   - stepSize: the first standard deviation of every gene.
    ///   - populationSize: `λ`; `4 + ⌊3 ln D⌋` when nil.
    ///   - learningRateMean: `η_μ`; 1 when nil.
    ///   - learningRateSigma: `η_σ`; `(3 + ln D)/(5 √D)` when nil.
    ///   - evaluatesCenter: whether row 0 of each generation is the mean.
    ///   - shaping: the fitness shaping (`nil`: SNES's utilities).
    ///   - optimizer: moves the mean by `σ ⊙ ∇_μ` (`nil`: the plain step `η_μ σ ⊙ ∇_μ`).
    public init(
        mean: [Float], stepSize: Float, populationSize: Int? = nil, learningRateMean: Float? = nil,
        learningRateSigma: Float? = nil,
        evaluatesCenter: Bool = false, shaping: FitnessShaping? = nil, optimizer: MeanOptimizer? = nil
    ) {
        let d = mean.count
        precondition(d >= 1, "SNES needs at least one dimension")
        precondition(stepSize > 0, "SNES needs a positive step size")
        let lambda = populationSize ?? 4 + Int(3 * Foundation.log(Double(d)))
        precondition(lambda >= 2, "SNES needs a population of at least 2")
        dimension = d
        self.populationSize = lambda
        self.learningRateMean = learningRateMean ?? 1
        self.learningRateSigma =
            learningRateSigma ?? Float((3 + Foundation.log(Double(d))) / (5 * Double(d).squareRoot()))
        utilities = Self.utilities(populationSize: lambda)
        self.mean = mean
        sigma = [Float](repeating: stepSize, count: d)
        self.evaluatesCenter = evaluatesCenter
        self.shaping = shaping
        self.optimizer = optimizer
    }

    public var meanRow: Int? { evaluatesCenter ? 0 : nil }

    /// SNES's fitness shaping: `uₖ = max(0, ln(λ/2 + 1) − ln k) / Σⱼ max(0, ln(λ/2 + 1) − ln j) − 1/λ`
    /// for ranks `k = 1 … λ`, best first.
    public static func utilities(populationSize lambda: Int) -> [Float] {
        let raw = (1...lambda).map { max(0, Foundation.log(Double(lambda) / 2 + 1) - Foundation.log(Double($0))) }
        let total = raw.reduce(0, +)
        return raw.map { Float($0 / total - 1 / Double(lambda)) }
    }

    /// Samples `λ` candidates; row `k` uses the stream `key.stream(.sampling, individual: k)`, so
    /// rows are drawn in parallel with the same result on any number of threads. The `zₖ` are not
    /// kept: `tell` reads them back from the genes, `zₖ = (xₖ − μ) / σ` (so the state is `O(D)`,
    /// and the population is the only `[λ × D]` buffer).
    public mutating func ask(into population: inout Population, key: StreamKey) {
        precondition(
            population.dimension == dimension, "population has \(population.dimension) genes, SNES \(dimension)")
        if population.count != populationSize { population.resize(count: populationSize) }
        let d = dimension
        _mean.wrappedValue.withUnsafeBufferPointer { mean in
            _sigma.wrappedValue.withUnsafeBufferPointer { sigma in
                population.genes.withUnsafeMutableBufferPointer { genesBuffer in
                    let genes = genesBuffer.baseAddress!
                    forEachRow(populationSize, genesPerRow: d) { k in
                        if evaluatesCenter && k == 0 {
                            for j in 0..<d { genes[j] = mean[j] }
                            return
                        }
                        var random = key.stream(.sampling, individual: k)
                        for j in 0..<d { genes[k * d + j] = mean[j] + sigma[j] * Float(random.gaussian()) }
                    }
                }
            }
        }
        population.markAsked(key: key, stepSize: 0)
        sampledKey = key
    }

    /// `zₖ = (xₖ − μ) / σ` read back from the genes; an immigrant's (a row whose id `ask` did not
    /// give) is scaled to at most `E‖N(0, I)‖` and enters the mean's gradient only, not σ's.
    public mutating func tell(_ evaluated: Population) {
        precondition(evaluated.count == populationSize, "tell needs the \(populationSize) candidates of the last ask")
        let d = dimension
        let order = evaluated.ranking()
        let shaped = shaping?.weights(evaluated.fitness)
        var gradientMean = [Float](repeating: 0, count: d)
        var gradientSigma = [Float](repeating: 0, count: d)
        var z = [Float](repeating: 0, count: d)
        let limit = expectedGaussianNorm(d)
        evaluated.genes.withUnsafeBufferPointer { genes in
            for (rank, k) in order.enumerated() {
                let u = shaped?[k] ?? utilities[rank]
                for j in 0..<d { z[j] = (genes[k * d + j] - mean[j]) / sigma[j] }
                let own = evaluated.isSample(row: k, of: sampledKey)
                if !own { clipNorm(&z, limit: limit) }
                for j in 0..<d { gradientMean[j] += u * z[j] }
                // An immigrant was not drawn from N(μ, σ²): one coordinate of it can lie hundreds
                // of σ out even with its length clipped, and u (z² − 1) would then blow σ up or
                // collapse it in one step. It moves the mean only.
                guard own, !(evaluatesCenter && k == 0) else { continue }
                for j in 0..<d { gradientSigma[j] += u * (z[j] * z[j] - 1) }
            }
        }
        if optimizer != nil {
            for j in 0..<d { gradientMean[j] *= sigma[j] }
            optimizer!.step(&gradientMean, mean: &_mean.wrappedValue)
        } else {
            for j in 0..<d { mean[j] += learningRateMean * sigma[j] * gradientMean[j] }
        }
        for j in 0..<d { sigma[j] *= Float(exp(Double(0.5 * learningRateSigma * gradientSigma[j]))) }
    }
}
