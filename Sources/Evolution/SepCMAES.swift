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
    /// `μ`, the number of candidates recombined.
    public let parents: Int
    /// `[μ]` recombination weights, decreasing, summing to 1.
    public let weights: [Double]
    public let muEff: Double
    public let cSigma: Double
    public let dSigma: Double
    public let cc: Double
    public let c1: Double
    public let cMu: Double
    /// `E‖N(0, I)‖`.
    public let expectedNorm: Double

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
        let nd = Double(n)
        let lambda = populationSize ?? 4 + Int(3 * Foundation.log(nd))
        precondition(lambda >= 2, "sep-CMA-ES needs a population of at least 2")
        let mu = lambda / 2
        let raw = (1 ... mu).map { Foundation.log(Double(mu) + 0.5) - Foundation.log(Double($0)) }
        let total = raw.reduce(0, +)
        let w = raw.map { $0 / total }
        let muEff = 1 / w.reduce(0) { $0 + $1 * $1 }
        dimension = n
        self.populationSize = lambda
        parents = mu
        weights = w
        self.muEff = muEff
        cSigma = (muEff + 2) / (nd + muEff + 5)
        dSigma = 1 + 2 * max(0, ((muEff - 1) / (nd + 1)).squareRoot() - 1) + cSigma
        cc = (4 + muEff / nd) / (nd + 4 + 2 * muEff / nd)
        let separable = (nd + 2) / 3
        c1 = min(1, separable * 2 / ((nd + 1.3) * (nd + 1.3) + muEff))
        cMu = min(1 - c1, separable * 2 * (muEff - 2 + 1 / muEff) / ((nd + 2) * (nd + 2) + muEff))
        expectedNorm = expectedGaussianNorm(n)
        self.mean = mean.map(Double.init)
        self.stepSize = stepSize
        variances = [Double](repeating: 1, count: n)
        pathSigma = [Double](repeating: 0, count: n)
        pathC = [Double](repeating: 0, count: n)
        generation = 0
    }

    public var center: [Float] { mean.map(Float.init) }

    /// Samples `λ` candidates. Row `k` uses the stream `key.stream(.sampling, individual: k)`.
    public mutating func ask(into population: inout Population, key: StreamKey) {
        precondition(population.dimension == dimension, "population has \(population.dimension) genes, sep-CMA-ES \(dimension)")
        if population.count != populationSize { population.resize(count: populationSize) }
        let n = dimension
        let deviations = variances.map { $0.squareRoot() }
        for k in 0 ..< populationSize {
            var random = key.stream(.sampling, individual: k)
            for j in 0 ..< n {
                population.genes[k * n + j] = Float(mean[j] + stepSize * deviations[j] * random.gaussian())
            }
            population.fitness[k] = Population.unevaluated
            population.stepSizes[k] = Float(stepSize)
        }
        population.assignIDs(key: key)
        sampledKey = key
    }

    public mutating func tell(_ evaluated: Population) {
        precondition(evaluated.count == populationSize, "tell needs the \(populationSize) candidates of the last ask")
        let n = dimension
        let order = evaluated.ranking()
        var meanStep = [Double](repeating: 0, count: n)
        var weightedSquares = [Double](repeating: 0, count: n)
        for i in 0 ..< parents {
            let y = sample(row: order[i], of: evaluated)
            for j in 0 ..< n {
                meanStep[j] += weights[i] * y[j]
                weightedSquares[j] += weights[i] * y[j] * y[j]
            }
        }
        let sigmaGain = (cSigma * (2 - cSigma) * muEff).squareRoot()
        var pathSigmaNormSquared = 0.0
        for j in 0 ..< n {
            mean[j] += stepSize * meanStep[j]
            pathSigma[j] = (1 - cSigma) * pathSigma[j] + sigmaGain * meanStep[j] / variances[j].squareRoot()
            pathSigmaNormSquared += pathSigma[j] * pathSigma[j]
        }
        let pathSigmaNorm = pathSigmaNormSquared.squareRoot()
        let correction = (1 - pow(1 - cSigma, 2 * Double(generation + 1))).squareRoot()
        let hSigma: Double = pathSigmaNorm / correction >= (1.4 + 2 / (Double(n) + 1)) * expectedNorm ? 0 : 1
        let cGain = (cc * (2 - cc) * muEff).squareRoot()
        let decay = 1 - c1 - cMu + (1 - hSigma) * c1 * cc * (2 - cc)
        for j in 0 ..< n {
            pathC[j] = (1 - cc) * pathC[j] + hSigma * cGain * meanStep[j]
            variances[j] = max(decay * variances[j] + c1 * pathC[j] * pathC[j] + cMu * weightedSquares[j], 1e-300)
        }
        stepSize *= exp((cSigma / dSigma) * (pathSigmaNorm / expectedNorm - 1))
        generation += 1
    }

    /// `yₖ = (xₖ − m) / σ` of row `k`; an immigrant's (a row whose id `ask` did not give) is rescaled
    /// so that `‖y / √c‖` is at most `E‖N(0, I)‖`.
    func sample(row k: Int, of evaluated: Population) -> [Double] {
        let n = dimension
        var y = (0 ..< n).map { (Double(evaluated.genes[k * n + $0]) - mean[$0]) / stepSize }
        guard !evaluated.isSample(row: k, of: sampledKey) else { return y }
        var squared = 0.0
        for j in 0 ..< n { squared += y[j] * y[j] / variances[j] }
        let length = squared.squareRoot()
        if length > expectedNorm { y = y.map { $0 * expectedNorm / length } }
        return y
    }
}
