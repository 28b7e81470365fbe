import CBLAS
import Foundation
import Kernels

/// SNES around an anchor with a learned linear latent: the island's anchored latent space.
///
/// The anchor is the search mean `μ` (`[n]`). `U` (`[k × n]`, orthonormal rows) spans the
/// directions the mean has recently moved in: `k` evolution paths of time scales
/// `1, 1.6, 1.6², …` generations (`pᵢ ← (1 − cᵢ) pᵢ + cᵢ Δμ`, `cᵢ = 1.6⁻ⁱ`; LM-MA-ES's
/// multi-timescale paths, Loshchilov et al. 2019), orthonormalised by modified Gram–Schmidt
/// (cost `n k²`) and rebuilt every `R` generations once `k` generations have filled the paths.
/// A candidate is
///
///     x = μ + σ ⊙ s + Uᵀ (τ ⊙ z),   s ~ N(0, Iₙ),  z ~ N(0, Iₖ),
///
/// with one step size `σⱼ` per weight and one `τᵢ` per latent coordinate. Each generation mixes
/// three kinds of candidates, in row order: a share with `z = 0` (full weight space around the
/// anchor: `full`), a share with `s = 0` (the latent only, `μ + Uᵀ(τ ⊙ z)`: `latent`), and the rest
/// with both (`guided`). Before the first basis every candidate is `full`, i.e. plain SNES.
///
/// With a residual decoder (`decoderRows > 0`, see `SubspaceSNES+Residual.swift`), the last
/// `decoderRows` rows also add a decoded correction once the decoder is active (`decoded`):
///
///     x = μ + σ ⊙ s + Uᵀ (τ ⊙ z) + r,   r = D(ρ ⊙ w) − D(0),  w ~ N(0, Iₘ),
///
/// where `D` is the caller's decoder (the attention meta-learner, trained on archive deltas
/// `g − μ`) and `ρ` the step size of each of its `m` latent coordinates.
///
/// With `evaluatesCenter`, row 0 is the anchor itself (`s = 0`, `z = 0`: `center`), scored with
/// the others at the cost of one candidate: the run then keeps the mean when it beats every sample.
/// It takes a rank among the utilities but adds nothing to any gradient.
///
/// With attention focus (`focusRows > 0`, see `SubspaceSNES+Focus.swift`), the `focusRows` rows
/// before the decoder's sample `s` only on the genes of a few neurons once focus is active
/// (`focus`): `x = μ + σ ⊙ (M ⊙ s) + Uᵀ(τ ⊙ z)`, `M` the 0/1 mask of the chosen neurons' genes;
/// their `σ` gradient runs over those genes only.
///
/// The update is SNES's (Schaul et al. 2011) on both parts, with the utilities `u` of `SNES`,
/// each gradient summed over the rows that sampled that part:
/// - `μ ← μ + η_μ (σ ⊙ Σₖ uₖ sₖ + Uᵀ (τ ⊙ Σₖ uₖ zₖ) + Σₖ uₖ rₖ)` (`rₖ = 0` on rows without a
///   residual): every part moves the mean by the utility-weighted steps it actually took;
/// - `σ ← σ ⊙ exp(½ η_σ Σₖ uₖ (sₖ² − 1))`, `τ ← τ ⊙ exp(½ η_τ Σₖ uₖ (zₖ² − 1))`, with
///   `η_σ = (3 + ln n)/(5√n)` and `η_τ = (3 + ln k)/(5√k)` by default;
/// - `ρ ← ρ ⊙ exp(½ η_ρ Σₖ uₖ (wₖ² − 1))` over the rows with a residual, `η_ρ = (3 + ln m)/(5√m)`.
///
/// With an `optimizer` (`MeanOptimizer`) the summed step is the gradient the optimizer turns into
/// the anchor's change, and the evolution paths follow that change.
public struct SubspaceSNES: EvolutionStrategy, Equatable {
    public let dimension: Int
    public let populationSize: Int
    /// `k`, latent coordinates.
    public let latentSize: Int
    /// `R`, generations between rebuilds of `U` (re-anchoring).
    public let rebuildEvery: Int
    /// Rows with `z = 0`, then rows with `s = 0`; the rest sample both.
    public let fullRows: Int
    public let latentRows: Int
    public let learningRateMean: Float
    public let learningRateSigma: Float
    public let learningRateTau: Float
    /// `[λ]` utilities by rank, best first (they sum to zero).
    public let utilities: [Float]
    /// `μ`, `[n]`: the anchor.
    @Packed public private(set) var mean: [Float]
    /// `σ`, `[n]`.
    @Packed public private(set) var sigma: [Float]
    /// `τ`, `[k]`.
    public private(set) var tau: [Float]
    /// `[k × n]` evolution paths and `[k × n]` orthonormal basis `U` (row `i` is `Uᵢ`).
    @Packed var paths: [Float]
    @Packed public private(set) var basis: [Float]
    /// Last rows that add a decoded residual once the decoder is active, and `m`, its latent size.
    public let decoderRows: Int
    public let decoderLatentSize: Int
    public let learningRateRho: Float
    /// `ρ`, `[m]`: step sizes of the decoder's latent coordinates (set by `activateDecoder`).
    public internal(set) var rho: [Float]
    /// Whether the last rows carry a decoded residual (from the first `activateDecoder` on).
    public internal(set) var decoderActive = false
    /// Whether the last `ask` drew residual latents (the decoder was active then).
    var residualsDrawn = false
    /// Whether row 0 is the anchor itself.
    public let evaluatesCenter: Bool
    /// Rows with a focus mask once focus is active, and the neurons each one mutates.
    public let focusRows: Int
    public let focusNeurons: Int
    /// `[N]` neuron weights (the attention the meta-learner gives each neuron) and `[n]` the neuron
    /// of each gene (empty until `activateFocus`).
    public internal(set) var focusWeights: [Float] = []
    public internal(set) var geneNeurons: [Int32] = []
    /// `[λ × focusNeurons]` neurons chosen for each focus row in the last `ask`.
    var focusChosen: [Int32] = []
    /// Whether the last `ask` drew focus masks.
    var focusDrawn = false
    /// `[λ × m]` `w` and `[λ × n]` residuals `r` of the last `ask` (zero on rows without one).
    @Packed var residualNormals: [Float]
    @Packed var residuals: [Float]
    /// The generation `U` was last built in (`nil`: not yet).
    public private(set) var basisGeneration: Int?
    /// Updates done.
    public private(set) var generation = 0
    /// `[λ × k]` `z` of the last `ask` (the `s` are read back from the genes: `tell`).
    @Packed var latentNormals: [Float]
    var sampledKey: StreamKey?
    /// What moves the anchor along the summed step (`nil`: the plain step, `μ ← μ + step`).
    public private(set) var optimizer: MeanOptimizer?

    /// - Parameters:
    ///   - mean: the first anchor (`n` genes).
    ///   - stepSize: `σ₀`, the first step size of every weight.
    ///   - latentStepSize: `τ₀`, the first step size of every latent coordinate.
    ///   - latentSize: `k` (at most `n`).
    ///   - rebuildEvery: `R ≥ 1`.
    ///   - fullShare, latentShare: shares of `full` and `latent` candidates (sum at most 1).
    public init(
        mean: [Float], stepSize: Float, latentStepSize: Float, latentSize: Int, rebuildEvery: Int, populationSize: Int,
        fullShare: Double, latentShare: Double, learningRateMean: Float? = nil, learningRateSigma: Float? = nil,
        learningRateTau: Float? = nil, decoderShare: Double = 0, decoderLatentSize: Int = 0, focusShare: Double = 0,
        focusNeurons: Int = 0, evaluatesCenter: Bool = false, optimizer: MeanOptimizer? = nil
    ) {
        let n = mean.count
        let k = latentSize
        precondition(k >= 1 && k <= n, "the latent needs 1 to \(n) coordinates")
        precondition(rebuildEvery >= 1 && populationSize >= 2 && stepSize > 0 && latentStepSize > 0)
        precondition(
            fullShare >= 0 && latentShare >= 0 && decoderShare >= 0 && focusShare >= 0
                && fullShare + latentShare + decoderShare + focusShare <= 1 + 1e-9)
        precondition(focusShare == 0 || focusNeurons >= 1, "focused candidates mutate at least one neuron")
        precondition(decoderShare == 0 || decoderLatentSize >= 1, "a residual decoder needs a latent")
        dimension = n
        self.populationSize = populationSize
        self.latentSize = k
        self.rebuildEvery = rebuildEvery
        fullRows = Int((fullShare * Double(populationSize)).rounded())
        latentRows = min(populationSize - fullRows, Int((latentShare * Double(populationSize)).rounded()))
        // Decoded and focused rows are guided rows after row 0 when it is the center.
        let guidedRows =
            populationSize - fullRows - latentRows - (evaluatesCenter && fullRows == 0 && latentRows == 0 ? 1 : 0)
        decoderRows =
            decoderShare > 0 ? max(1, min(guidedRows, Int((decoderShare * Double(populationSize)).rounded()))) : 0
        self.decoderLatentSize = decoderRows > 0 ? decoderLatentSize : 0
        let m = self.decoderLatentSize
        learningRateRho = m > 0 ? Float((3 + Foundation.log(Double(m))) / (5 * Double(m).squareRoot())) : 0
        rho = [Float](repeating: 1, count: m)
        residualNormals = [Float](repeating: 0, count: populationSize * m)
        residuals = [Float](repeating: 0, count: decoderRows > 0 ? populationSize * n : 0)
        focusRows =
            focusShare > 0
            ? max(1, min(guidedRows - decoderRows, Int((focusShare * Double(populationSize)).rounded()))) : 0
        self.focusNeurons = focusRows > 0 ? focusNeurons : 0
        self.evaluatesCenter = evaluatesCenter
        self.learningRateMean = learningRateMean ?? 1
        self.learningRateSigma =
            learningRateSigma ?? Float((3 + Foundation.log(Double(n))) / (5 * Double(n).squareRoot()))
        self.learningRateTau = learningRateTau ?? Float((3 + Foundation.log(Double(k))) / (5 * Double(k).squareRoot()))
        let lambda = populationSize
        utilities = SNES.utilities(populationSize: lambda)
        self.mean = mean
        sigma = [Float](repeating: stepSize, count: n)
        tau = [Float](repeating: latentStepSize, count: k)
        paths = [Float](repeating: 0, count: k * n)
        basis = [Float](repeating: 0, count: k * n)
        latentNormals = [Float](repeating: 0, count: lambda * k)
        self.optimizer = optimizer
    }

    public var meanRow: Int? { evaluatesCenter ? 0 : nil }

    /// Which parts row `row` samples: `(s, z)`.
    func parts(row: Int) -> (full: Bool, latent: Bool) {
        if evaluatesCenter && row == 0 { return (false, false) }
        guard basisGeneration != nil else { return (true, false) }
        if row < fullRows { return (true, false) }
        if row < fullRows + latentRows { return (false, true) }
        return (true, true)
    }

    public func candidateKind(row: Int) -> String? {
        switch parts(row: row) {
        case (true, false): "full"
        case (false, true): "latent"
        case (false, false): "center"
        default: hasResidual(row: row) ? "decoded" : hasFocus(row: row) ? "focus" : "guided"
        }
    }

    public mutating func ask(into population: inout Population, key: StreamKey) {
        precondition(
            population.dimension == dimension, "population has \(population.dimension) genes, the strategy \(dimension)"
        )
        if population.count != populationSize { population.resize(count: populationSize) }
        if generation >= latentSize, basisGeneration.map({ generation - $0 >= rebuildEvery }) ?? true {
            rebuildBasis(key: key)
        }
        let n = dimension
        let k = latentSize
        let lambda = populationSize
        let rowParts = (0..<lambda).map(parts(row:))
        _mean.wrappedValue.withUnsafeBufferPointer { mean in
            _sigma.wrappedValue.withUnsafeBufferPointer { sigma in
                population.genes.withUnsafeMutableBufferPointer { genesBuffer in
                    let genes = genesBuffer.baseAddress!
                    forEachRow(lambda, genesPerRow: n) { r in
                        var random = key.stream(.sampling, individual: r)
                        let sampled = rowParts[r].full
                        for j in 0..<n {
                            genes[r * n + j] = sampled ? mean[j] + sigma[j] * Float(random.gaussian()) : mean[j]
                        }
                    }
                }
            }
        }
        applyFocus(to: &population, key: key)
        if basisGeneration != nil {
            // Z·diag(τ), [λ × k], then X += (Z τ) U: [λ × n] += [λ × k][k × n].
            var scaled = [Float](repeating: 0, count: lambda * k)
            for r in 0..<lambda where rowParts[r].latent {
                var random = key.stream(.sampling, individual: lambda + r)
                for i in 0..<k {
                    let z = Float(random.gaussian())
                    latentNormals[r * k + i] = z
                    scaled[r * k + i] = tau[i] * z
                }
            }
            for r in 0..<lambda where !rowParts[r].latent {
                for i in 0..<k { latentNormals[r * k + i] = 0 }
            }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(lambda), Int32(n), Int32(k),
                1, scaled, Int32(k), basis, Int32(n), 1, &population.genes, Int32(n))
        }
        drawResidualNormals(key: key)
        population.markAsked(key: key, stepSize: 0)
        sampledKey = key
    }

    public mutating func tell(_ evaluated: Population) {
        precondition(evaluated.count == populationSize, "tell needs the \(populationSize) candidates of the last ask")
        let n = dimension
        let k = latentSize
        for r in 0..<populationSize where !evaluated.isSample(row: r, of: sampledKey) {
            clearResidual(row: r)
            adoptLatent(row: r, of: evaluated)
        }
        let order = evaluated.ranking()
        var gradientMean = [Float](repeating: 0, count: n)
        var gradientSigma = [Float](repeating: 0, count: n)
        var gradientLatent = [Float](repeating: 0, count: k)
        var gradientTau = [Float](repeating: 0, count: k)
        var residualStep = [Float](repeating: 0, count: decoderRows > 0 ? n : 0)
        var gradientRho = [Float](repeating: 0, count: decoderLatentSize)
        var sRow = [Float](repeating: 0, count: n)
        var scaledLatent = [Float](repeating: 0, count: k)
        for (rank, r) in order.enumerated() {
            let u = utilities[rank]
            // Immigrants move the means only (as in SNES.tell): their step sizes would see
            // coordinates hundreds of σ out.
            let own = evaluated.isSample(row: r, of: sampledKey)
            // An immigrant in the center row is read back as a full-space sample.
            let (full, latent) = evaluatesCenter && r == 0 && !own ? (true, false) : parts(row: r)
            if full {
                fullNormal(row: r, of: evaluated, into: &sRow, scaledLatent: &scaledLatent)
                for j in 0..<n { gradientMean[j] += u * sRow[j] }
                if own, hasFocus(row: r) {
                    let chosen = focusMask(row: r)
                    for j in 0..<n where chosen[Int(geneNeurons[j])] { gradientSigma[j] += u * (sRow[j] * sRow[j] - 1) }
                } else if own {
                    for j in 0..<n { gradientSigma[j] += u * (sRow[j] * sRow[j] - 1) }
                }
            }
            if latent {
                for i in 0..<k {
                    let z = latentNormals[r * k + i]
                    gradientLatent[i] += u * z
                    if own { gradientTau[i] += u * (z * z - 1) }
                }
            }
            if own && hasResidual(row: r) {
                accumulateResidual(row: r, utility: u, step: &residualStep, gradientRho: &gradientRho)
            }
        }
        var step = [Float](repeating: 0, count: n)
        for j in 0..<n { step[j] = learningRateMean * sigma[j] * gradientMean[j] }
        if basisGeneration != nil {
            for i in 0..<k {
                let coefficient = learningRateMean * tau[i] * gradientLatent[i]
                for j in 0..<n { step[j] += coefficient * basis[i * n + j] }
            }
        }
        if decoderActive { for j in 0..<n { step[j] += learningRateMean * residualStep[j] } }
        if optimizer != nil {
            // The step becomes the optimizer's change (the paths follow the change made).
            optimizer!.step(&step, mean: &_mean.wrappedValue)
        } else {
            for j in 0..<n { mean[j] += step[j] }
        }
        for j in 0..<n { sigma[j] *= Float(exp(Double(0.5 * learningRateSigma * gradientSigma[j]))) }
        if basisGeneration != nil {
            for i in 0..<k { tau[i] *= Float(exp(Double(0.5 * learningRateTau * gradientTau[i]))) }
        }
        if decoderActive {
            for i in 0..<decoderLatentSize { rho[i] *= Float(exp(Double(0.5 * learningRateRho * gradientRho[i]))) }
        }
        // Multi-timescale evolution paths of the mean's steps.
        for i in 0..<k {
            let c = Float(Foundation.pow(1.6, -Double(i)))
            for j in 0..<n { paths[i * n + j] = (1 - c) * paths[i * n + j] + c * step[j] }
        }
        generation += 1
    }

    /// `U` ← the paths orthonormalised by modified Gram–Schmidt (in Double); a path that adds less
    /// than 10⁻⁶ of its length to the span so far is replaced by a Gaussian direction from the
    /// stream `(.sampling, λ + λ + i)` of `key`, so `U` always has `k` orthonormal rows.
    mutating func rebuildBasis(key: StreamKey) {
        let n = dimension
        let k = latentSize
        // [k × n] in Double; row i becomes Uᵢ. Gram–Schmidt with one reorthogonalisation, by BLAS
        // level 1 (ddot, daxpy) at memory speed.
        var rows = [Double](repeating: 0, count: k * n)
        rows.withUnsafeMutableBufferPointer { buffer in
            let q = buffer.baseAddress!
            for i in 0..<k {
                let v = q + i * n
                for j in 0..<n { v[j] = Double(paths[i * n + j]) }
                let original = cblas_dnrm2(Int32(n), v, 1)
                func orthogonalise() {
                    for _ in 0..<2 {
                        for p in 0..<i {
                            cblas_daxpy(Int32(n), -cblas_ddot(Int32(n), q + p * n, 1, v, 1), q + p * n, 1, v, 1)
                        }
                    }
                }
                orthogonalise()
                if !(original > 0) || !(cblas_dnrm2(Int32(n), v, 1) > 1e-6 * original) {
                    var random = key.stream(.sampling, individual: 2 * populationSize + i)
                    for j in 0..<n { v[j] = random.gaussian() }
                    orthogonalise()
                }
                cblas_dscal(Int32(n), 1 / cblas_dnrm2(Int32(n), v, 1), v, 1)
            }
        }
        for j in 0..<k * n { basis[j] = Float(rows[j]) }
        basisGeneration = generation
    }

    /// `s` of row `r`, read back from its genes: `s = (x − μ − Uᵀ(τ ⊙ z) − r) / σ`; an immigrant's is
    /// clipped to `E‖N(0, I)‖`. `scaledLatent` is the caller's scratch of `k` floats (for `τ ⊙ z`).
    func fullNormal(row r: Int, of evaluated: Population, into s: inout [Float], scaledLatent: inout [Float]) {
        let n = dimension
        let k = latentSize
        evaluated.genes.withUnsafeBufferPointer { genes in
            for j in 0..<n { s[j] = genes[r * n + j] - mean[j] }
        }
        if basisGeneration != nil {
            for i in 0..<k { scaledLatent[i] = tau[i] * latentNormals[r * k + i] }
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), -1, basis, Int32(n), scaledLatent, 1, 1, &s, 1)
        }
        if hasResidual(row: r) { for j in 0..<n { s[j] -= residuals[r * n + j] } }
        for j in 0..<n { s[j] /= sigma[j] }
        if !evaluated.isSample(row: r, of: sampledKey) { clipNorm(&s, limit: expectedGaussianNorm(n)) }
    }

    /// An immigrant in row `r`: its latent part `z = (U (x − μ)) / τ`, clipped to its expected
    /// Gaussian length, where the row's slot samples a latent part (0 otherwise); its full part is
    /// then what `fullNormal` reads back.
    mutating func adoptLatent(row r: Int, of evaluated: Population) {
        let n = dimension
        let k = latentSize
        guard basisGeneration != nil, parts(row: r).latent else {
            for i in 0..<k { latentNormals[r * k + i] = 0 }
            return
        }
        var z = [Double](repeating: 0, count: k)
        for i in 0..<k {
            var dot = 0.0
            for j in 0..<n { dot += Double(basis[i * n + j]) * Double(evaluated.genes[r * n + j] - mean[j]) }
            z[i] = dot / Double(tau[i])
        }
        z.withUnsafeMutableBufferPointer { clipNorm($0.baseAddress!, count: k, limit: expectedGaussianNorm(k)) }
        for i in 0..<k { latentNormals[r * k + i] = Float(z[i]) }
    }
}
