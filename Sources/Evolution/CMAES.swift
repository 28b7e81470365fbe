import CBLAS
import Foundation
import Kernels

/// CMA-ES, the covariance matrix adaptation evolution strategy, as in Hansen's tutorial (N. Hansen,
/// *The CMA Evolution Strategy: A Tutorial*, arXiv:1604.00772, Table 1 defaults with positive
/// recombination weights only, i.e. without active CMA's negative weights).
///
/// Candidates are `xₖ = m + σ yₖ`, `yₖ = B D zₖ ~ N(0, C)`, `zₖ ~ N(0, I)`, `C = B D² Bᵀ`. With
/// `n = D` genes (`N` in the tutorial):
/// - `λ = 4 + ⌊3 ln n⌋`, `μ = ⌊λ/2⌋`, `wᵢ ∝ ln(μ + ½) − ln i` (`Σ wᵢ = 1`), `μ_eff = 1/Σ wᵢ²`;
/// - `c_σ = (μ_eff + 2)/(n + μ_eff + 5)`, `d_σ = 1 + 2 max(0, √((μ_eff − 1)/(n + 1)) − 1) + c_σ`;
/// - `c_c = (4 + μ_eff/n)/(n + 4 + 2μ_eff/n)`, `c₁ = 2/((n + 1.3)² + μ_eff)`,
///   `c_μ = min(1 − c₁, 2(μ_eff − 2 + 1/μ_eff)/((n + 2)² + μ_eff))`.
///
/// After ranking (best first), `⟨y⟩_w = Σᵢ wᵢ y_{i:λ}` and:
/// - `m ← m + σ ⟨y⟩_w`;
/// - `p_σ ← (1 − c_σ) p_σ + √(c_σ(2 − c_σ) μ_eff) C^{−½} ⟨y⟩_w` with `C^{−½} = B D⁻¹ Bᵀ`;
/// - `h_σ = 1` if `‖p_σ‖ / √(1 − (1 − c_σ)^{2(g+1)}) < (1.4 + 2/(n + 1)) E‖N(0, I)‖`, else 0,
///   `E‖N(0, I)‖ ≈ √n (1 − 1/(4n) + 1/(21n²))`;
/// - `p_c ← (1 − c_c) p_c + h_σ √(c_c(2 − c_c) μ_eff) ⟨y⟩_w`;
/// - `C ← (1 − c₁ − c_μ + (1 − h_σ) c₁ c_c (2 − c_c)) C + c₁ p_c p_cᵀ + c_μ Σᵢ wᵢ y_{i:λ} y_{i:λ}ᵀ`
///   (rank-one and rank-μ updates);
/// - `σ ← σ exp((c_σ/d_σ)(‖p_σ‖ / E‖N(0, I)‖ − 1))`.
///
/// `B` and `D` are recomputed (LAPACK `dsyevd`) only every `max(1, ⌊1/(10 n (c₁ + c_μ))⌋)`
/// generations, the tutorial's lazy update that keeps the cost per sample `O(n²)`. The state is in
/// Double; candidates are written as Float.
public struct CMAES: EvolutionStrategy, Equatable {
    public let dimension: Int
    public let populationSize: Int
    /// `μ`, `wᵢ`, `μ_eff`, `c_σ`, `d_σ`, `c_c`, `c₁`, `c_μ`, `E‖N(0, I)‖`.
    public let constants: CMAConstants
    public var parents: Int { constants.parents }
    public var weights: [Double] { constants.weights }
    public var muEff: Double { constants.muEff }
    public var expectedNorm: Double { constants.expectedNorm }
    /// Generations between eigendecompositions.
    public let eigenInterval: Int

    /// `m`, `[n]`.
    public private(set) var mean: [Double]
    /// `σ`, the overall step size.
    public private(set) var stepSize: Double
    /// `p_σ`, `[n]`.
    var pathSigma: [Double]
    /// `p_c`, `[n]`.
    var pathC: [Double]
    /// `C`, `[n × n]`.
    @Packed public private(set) var covariance: [Double]
    /// `[n × n]`, row `k` is the `k`-th eigenvector of `C` (column `k` of `B`).
    @Packed var eigenvectors: [Double]
    /// `[n]`, the diagonal of `D` (square roots of `C`'s eigenvalues).
    public private(set) var axisLengths: [Double]
    /// The generation of the last eigendecomposition.
    var eigenGeneration: Int
    /// Updates done, `g`.
    public private(set) var generation: Int
    /// `[λ × n]`, `yₖ` of the last `ask`.
    @Packed var samples: [Double]
    /// The key of the last `ask` (its candidates' ids).
    var sampledKey: StreamKey?

    /// - Parameters:
    ///   - mean: the first mean `m₀` (its length is `n`).
    ///   - stepSize: the first step size `σ₀` (about a quarter to a third of the search range).
    ///   - populationSize: `λ`; the default `4 + ⌊3 ln n⌋` when nil.
    public init(mean: [Float], stepSize: Double, populationSize: Int? = nil) {
        let n = mean.count
        precondition(n >= 1, "CMA-ES needs at least one dimension")
        precondition(stepSize > 0, "CMA-ES needs a positive step size")
        constants = CMAConstants(dimension: n, populationSize: populationSize, covarianceScale: 1)
        dimension = n
        self.populationSize = constants.populationSize
        eigenInterval = max(1, Int(1 / (10 * Double(n) * (constants.c1 + constants.cMu))))
        self.mean = mean.map(Double.init)
        self.stepSize = stepSize
        pathSigma = [Double](repeating: 0, count: n)
        pathC = [Double](repeating: 0, count: n)
        var identity = [Double](repeating: 0, count: n * n)
        for i in 0..<n { identity[i * n + i] = 1 }
        covariance = identity
        eigenvectors = identity
        axisLengths = [Double](repeating: 1, count: n)
        eigenGeneration = 0
        generation = 0
        samples = [Double](repeating: 0, count: constants.populationSize * n)
    }

    /// Samples `λ` candidates. Row `k` uses the stream `key.stream(.sampling, individual: k)`.
    public mutating func ask(into population: inout Population, key: StreamKey) {
        precondition(
            population.dimension == dimension, "population has \(population.dimension) genes, CMA-ES \(dimension)")
        if population.count != populationSize { population.resize(count: populationSize) }
        if generation - eigenGeneration >= eigenInterval { updateEigensystem() }
        let n = dimension
        let lambda = populationSize
        // zD = z · diag(D), [λ × n]
        var scaledNormals = [Double](repeating: 0, count: lambda * n)
        for k in 0..<lambda {
            var random = key.stream(.sampling, individual: k)
            for j in 0..<n { scaledNormals[k * n + j] = random.gaussian() * axisLengths[j] }
        }
        // y = zD · Bᵀ, i.e. Y[k, :] = Σⱼ (D z)ⱼ · eigenvector j: [λ × n] = [λ × n][n × n]
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(lambda), Int32(n), Int32(n),
            1, scaledNormals, Int32(n), eigenvectors, Int32(n), 0, &samples, Int32(n))
        for k in 0..<lambda {
            for j in 0..<n { population.genes[k * n + j] = Float(mean[j] + stepSize * samples[k * n + j]) }
        }
        population.markAsked(key: key, stepSize: Float(stepSize))
        sampledKey = key
    }

    public mutating func tell(_ evaluated: Population) {
        precondition(evaluated.count == populationSize, "tell needs the \(populationSize) candidates of the last ask")
        let n = dimension
        for k in 0..<populationSize where !evaluated.isSample(row: k, of: sampledKey) { adopt(row: k, of: evaluated) }
        let order = evaluated.ranking()
        // ⟨y⟩_w and the weighted rows √wᵢ y_{i:λ} for the rank-μ update
        var meanStep = [Double](repeating: 0, count: n)
        var weightedRows = [Double](repeating: 0, count: parents * n)
        for i in 0..<parents {
            let row = order[i] * n
            let w = constants.weights[i]
            let root = w.squareRoot()
            for j in 0..<n {
                meanStep[j] += w * samples[row + j]
                weightedRows[i * n + j] = root * samples[row + j]
            }
        }
        for j in 0..<n { mean[j] += stepSize * meanStep[j] }

        // C^{-1/2} ⟨y⟩_w = B D⁻¹ Bᵀ ⟨y⟩_w
        var rotated = [Double](repeating: 0, count: n)
        cblas_dgemv(
            CblasRowMajor, CblasNoTrans, Int32(n), Int32(n), 1, eigenvectors, Int32(n), meanStep, 1, 0, &rotated, 1)
        for j in 0..<n { rotated[j] /= axisLengths[j] }
        var whitened = [Double](repeating: 0, count: n)
        cblas_dgemv(
            CblasRowMajor, CblasTrans, Int32(n), Int32(n), 1, eigenvectors, Int32(n), rotated, 1, 0, &whitened, 1)

        let sigmaGain = (constants.cSigma * (2 - constants.cSigma) * muEff).squareRoot()
        var pathSigmaNormSquared = 0.0
        for j in 0..<n {
            pathSigma[j] = (1 - constants.cSigma) * pathSigma[j] + sigmaGain * whitened[j]
            pathSigmaNormSquared += pathSigma[j] * pathSigma[j]
        }
        let pathSigmaNorm = pathSigmaNormSquared.squareRoot()
        let correction = (1 - pow(1 - constants.cSigma, 2 * Double(generation + 1))).squareRoot()
        let stalled = pathSigmaNorm / correction >= (1.4 + 2 / (Double(n) + 1)) * expectedNorm
        let hSigma: Double = stalled ? 0 : 1
        let cGain = (constants.cc * (2 - constants.cc) * muEff).squareRoot()
        for j in 0..<n { pathC[j] = (1 - constants.cc) * pathC[j] + hSigma * cGain * meanStep[j] }

        // C ← (1 − c₁ − c_μ + (1 − h_σ) c₁ c_c (2 − c_c)) C + c₁ p_c p_cᵀ + c_μ Σ wᵢ yᵢ yᵢᵀ
        let decay = 1 - constants.c1 - constants.cMu + (1 - hSigma) * constants.c1 * constants.cc * (2 - constants.cc)
        cblas_dscal(Int32(n * n), decay, &covariance, 1)
        cblas_dger(CblasRowMajor, Int32(n), Int32(n), constants.c1, pathC, 1, pathC, 1, &covariance, Int32(n))
        cblas_dgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(n), Int32(parents),
            constants.cMu, weightedRows, Int32(n), weightedRows, Int32(n), 1, &covariance, Int32(n))

        stepSize *= exp((constants.cSigma / constants.dSigma) * (pathSigmaNorm / expectedNorm - 1))
        generation += 1
    }

    /// Recomputes `B` and `D` from `C` now (made exactly symmetric first), as `ask` does every
    /// `eigenInterval` generations; eigenvalues are floored at 1e-20 of the largest so rounding
    /// cannot make an axis length zero or NaN.
    public mutating func updateEigensystem() {
        let n = dimension
        for i in 0..<n {
            for j in 0..<i {
                let average = 0.5 * (covariance[i * n + j] + covariance[j * n + i])
                covariance[i * n + j] = average
                covariance[j * n + i] = average
            }
        }
        let (values, vectors) = SymmetricEigen.decompose(covariance, n: n)
        let largest = max(values.max() ?? 1, Double.leastNormalMagnitude)
        axisLengths = values.map { max($0, largest * 1e-20).squareRoot() }
        eigenvectors = vectors
        eigenGeneration = generation
    }

    /// Takes row `k` of `evaluated` (an immigrant) as a sample: `y = (x − m) / σ`, rescaled so
    /// that its Mahalanobis length `‖D⁻¹ Bᵀ y‖` is at most `E‖N(0, I)‖`.
    mutating func adopt(row k: Int, of evaluated: Population) {
        let n = dimension
        var y = (0..<n).map { (Double(evaluated.genes[k * n + $0]) - mean[$0]) / stepSize }
        var squared = 0.0
        for i in 0..<n {
            var projection = 0.0
            for j in 0..<n { projection += eigenvectors[i * n + j] * y[j] }
            squared += (projection / axisLengths[i]) * (projection / axisLengths[i])
        }
        let length = squared.squareRoot()
        if length > expectedNorm { y = y.map { $0 * expectedNorm / length } }
        for j in 0..<n { samples[k * n + j] = y[j] }
    }
}
