import Foundation
import Kernels

/// Separable CMA-ES (R. Ros, N. Hansen, *A Simple Modification in CMA-ES Achieving Linear Time and
/// Space Complexity*, PPSN 2008): CMA-ES with a diagonal covariance matrix, `O(λ n)` time and
/// memory per generation, for genomes of thousands of genes and more.
///
/// Candidates are `xₖ = m + σ yₖ`, `yₖ = √c ⊙ zₖ`, `zₖ ~ N(0, I)`, `C = diag(c)`. The constants are
/// CMA-ES's (`CMAES`'s documentation) except that both covariance learning rates are multiplied
/// by `(n + 2)/3`, as the paper prescribes: `c₁ = (n + 2)/3 · 2/((n + 1.3)² + μ_eff)`,
/// `c_μ = min(1 − c₁, (n + 2)/3 · 2(μ_eff − 2 + 1/μ_eff)/((n + 2)² + μ_eff))`.
///
/// After ranking (best first), `⟨y⟩_w = Σᵢ wᵢ y_{i:λ}` and:
/// - `m ← m + σ ⟨y⟩_w`;
/// - `p_σ ← (1 − c_σ) p_σ + √(c_σ(2 − c_σ) μ_eff) ⟨y⟩_w / √c`;
/// - `h_σ` as in CMA-ES; `p_c ← (1 − c_c) p_c + h_σ √(c_c(2 − c_c) μ_eff) ⟨y⟩_w`;
/// - `c ← (1 − c₁ − c_μ + (1 − h_σ) c₁ c_c (2 − c_c)) c + c₁ p_c² + c_μ Σᵢ wᵢ y_{i:λ}²` (elementwise);
/// - `σ ← σ exp((c_σ/d_σ)(‖p_σ‖ / E‖N(0, I)‖ − 1))`.
///
/// The state is in Double and `O(n)`: the samples are not kept, `tell` reads `yₖ = (xₖ − m) / σ`
/// back from the (Float) genes, so the population is the only `[λ × n]` buffer.
public struct SepCMAES: EvolutionStrategy, Equatable {
    public let dimension: Int
    public let populationSize: Int
    /// `μ`, `wᵢ`, `μ_eff`, `c_σ`, `d_σ`, `c_c`, `c₁`, `c_μ`, `E‖N(0, I)‖`.
    public let constants: CMAConstants
    public var parents: Int { constants.parents }
    public var weights: [Double] { constants.weights }
    public var muEff: Double { constants.muEff }
    public var expectedNorm: Double { constants.expectedNorm }

    /// `m`, `[n]`.
    @Packed public private(set) var mean: [Double]
    /// `σ`, the overall step size.
    public private(set) var stepSize: Double
    /// `c`, `[n]`, the diagonal of `C`.
    @Packed public private(set) var variances: [Double]
    @Packed var pathSigma: [Double]
    @Packed var pathC: [Double]
    /// Updates done, `g`.
    public private(set) var generation: Int
    /// The key of the last `ask` (its candidates' ids).
    var sampledKey: StreamKey?

    /// - Parameters:
    ///   - mean: the first mean `m₀` (its length is `n`).
    ///   - stepSize: the first step size `σ₀`.
    ///   - populationSize: `λ`; `4 + ⌊3 ln n⌋` when nil.
    public init(mean: [Float], stepSize: Double, populationSize: Int? = nil) {
        let n = mean.count
        precondition(n >= 1, "sep-CMA-ES needs at least one dimension")
        precondition(stepSize > 0, "sep-CMA-ES needs a positive step size")
        constants = CMAConstants(dimension: n, populationSize: populationSize, covarianceScale: (Double(n) + 2) / 3)
        dimension = n
        self.populationSize = constants.populationSize
        self.mean = mean.map(Double.init)
        self.stepSize = stepSize
        variances = [Double](repeating: 1, count: n)
        pathSigma = [Double](repeating: 0, count: n)
        pathC = [Double](repeating: 0, count: n)
        generation = 0
    }

    /// Samples `λ` candidates. Row `k` uses the stream `key.stream(.sampling, individual: k)`.
    public mutating func ask(into population: inout Population, key: StreamKey) {
        precondition(
            population.dimension == dimension, "population has \(population.dimension) genes, sep-CMA-ES \(dimension)")
        if population.count != populationSize { population.resize(count: populationSize) }
        let n = dimension
        let deviations = variances.map { $0.squareRoot() }
        for k in 0..<populationSize {
            var random = key.stream(.sampling, individual: k)
            for j in 0..<n {
                population.genes[k * n + j] = Float(mean[j] + stepSize * deviations[j] * random.gaussian())
            }
        }
        population.markAsked(key: key, stepSize: Float(stepSize))
        sampledKey = key
    }

    public mutating func tell(_ evaluated: Population) {
        precondition(evaluated.count == populationSize, "tell needs the \(populationSize) candidates of the last ask")
        let n = dimension
        let order = evaluated.ranking()
        var meanStep = [Double](repeating: 0, count: n)
        var weightedSquares = [Double](repeating: 0, count: n)
        for i in 0..<parents {
            let (y, w) = (sample(row: order[i], of: evaluated), constants.weights[i])
            for j in 0..<n {
                meanStep[j] += w * y[j]
                weightedSquares[j] += w * y[j] * y[j]
            }
        }
        let sigmaGain = (constants.cSigma * (2 - constants.cSigma) * muEff).squareRoot()
        var pathSigmaNormSquared = 0.0
        for j in 0..<n {
            mean[j] += stepSize * meanStep[j]
            pathSigma[j] = (1 - constants.cSigma) * pathSigma[j] + sigmaGain * meanStep[j] / variances[j].squareRoot()
            pathSigmaNormSquared += pathSigma[j] * pathSigma[j]
        }
        let pathSigmaNorm = pathSigmaNormSquared.squareRoot()
        let correction = (1 - pow(1 - constants.cSigma, 2 * Double(generation + 1))).squareRoot()
        let hSigma: Double = pathSigmaNorm / correction >= (1.4 + 2 / (Double(n) + 1)) * expectedNorm ? 0 : 1
        let cGain = (constants.cc * (2 - constants.cc) * muEff).squareRoot()
        let decay = 1 - constants.c1 - constants.cMu + (1 - hSigma) * constants.c1 * constants.cc * (2 - constants.cc)
        for j in 0..<n {
            pathC[j] = (1 - constants.cc) * pathC[j] + hSigma * cGain * meanStep[j]
            variances[j] = max(
                decay * variances[j] + constants.c1 * pathC[j] * pathC[j] + constants.cMu * weightedSquares[j], 1e-300)
        }
        stepSize *= exp((constants.cSigma / constants.dSigma) * (pathSigmaNorm / expectedNorm - 1))
        generation += 1
    }

    /// `yₖ = (xₖ − m) / σ` of row `k`; an immigrant's (a row whose id `ask` did not give) is rescaled
    /// so that `‖y / √c‖` is at most `E‖N(0, I)‖`.
    func sample(row k: Int, of evaluated: Population) -> [Double] {
        let n = dimension
        var y = (0..<n).map { (Double(evaluated.genes[k * n + $0]) - mean[$0]) / stepSize }
        guard !evaluated.isSample(row: k, of: sampledKey) else { return y }
        var squared = 0.0
        for j in 0..<n { squared += y[j] * y[j] / variances[j] }
        let length = squared.squareRoot()
        if length > expectedNorm { y = y.map { $0 * expectedNorm / length } }
        return y
    }
}
