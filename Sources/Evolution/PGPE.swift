import Foundation

/// Policy-gradient parameter exploration (F. Sehnke et al., *Parameter-exploring policy gradients*,
/// Neural Networks 23, 2010) as the field runs it (pgpelib, EvoJAX): mirrored samples, fitness
/// shaping, a per-gene σ adapted by the baseline-subtracted rule with its change clipped, and the
/// mean moved by a stochastic-gradient optimizer (`MeanOptimizer`: Adam, ClipUp, …).
///
/// Samples are mirrored pairs `μ ± εⱼ`, `εⱼ = σ ⊙ nⱼ` (`MirroredSampling`). With `rᵢ` the shaped
/// fitness of the `N` ranked rows (`FitnessShaping`, centred ranks by default) and `r̄` their mean
/// over the strategy's own samples:
/// - `g_μ = (1/N) Σᵢ rᵢ εᵢ` — for an intact pair this is `(1/(λ/2)) Σⱼ ½(rⱼ⁺ − rⱼ⁻) εⱼ`;
/// - `g_σ = (1/N_own) Σ_own (rᵢ − r̄)(εᵢ² − σ²)/σ` — for intact pairs
///   `(1/(λ/2)) Σⱼ (½(rⱼ⁺ + rⱼ⁻) − r̄)(εⱼ² − σ²)/σ`; immigrants take no part (their coordinates can lie
///   far out);
/// - `σ ← clip(σ + η_σ g_σ, (1 − c)σ, (1 + c)σ)`, `c` = `maxSigmaChange` (0.2);
/// - `μ` moves by the optimizer on `g_μ`.
///
/// With `evaluatesCenter`, row 0 is the mean itself: scored, out of the update, so the island can
/// hand back (and emigrate) its mean, the network the method actually trains.
public struct PGPE: EvolutionStrategy, Equatable {
    public let dimension: Int
    /// Rows per generation: `λ`, plus one with the center.
    public var populationSize: Int { sampling.rows }
    let sampling: MirroredSampling
    public let shaping: FitnessShaping
    /// `η_σ`.
    public let learningRateSigma: Float
    /// `c`: σ changes by at most this share per generation.
    public let maxSigmaChange: Float
    /// `μ`, `[D]`.
    @Packed public private(set) var mean: [Float]
    /// `σ`, `[D]`.
    @Packed public private(set) var sigma: [Float]
    public private(set) var optimizer: MeanOptimizer
    var sampledKey: StreamKey?

    /// - Parameters:
    ///   - sampleCount: `λ`, even (mirrored pairs).
    ///   - optimizer: moves the mean (its dimension must be `mean.count`).
    public init(
        mean: [Float], stepSize: Float, sampleCount: Int, optimizer: MeanOptimizer,
        shaping: FitnessShaping = .centredRanks,
        learningRateSigma: Float = 0.1, maxSigmaChange: Float = 0.2, evaluatesCenter: Bool = true
    ) {
        precondition(!mean.isEmpty && stepSize > 0, "PGPE needs at least one dimension and a positive step size")
        precondition(
            sampleCount >= 2 && sampleCount % 2 == 0, "PGPE samples mirrored pairs: λ must be even and at least 2")
        precondition(learningRateSigma >= 0 && maxSigmaChange > 0 && maxSigmaChange < 1, "η_σ ≥ 0 and 0 < c < 1")
        dimension = mean.count
        sampling = MirroredSampling(pairs: sampleCount / 2, center: evaluatesCenter)
        self.shaping = shaping
        self.learningRateSigma = learningRateSigma
        self.maxSigmaChange = maxSigmaChange
        self.mean = mean
        sigma = [Float](repeating: stepSize, count: mean.count)
        self.optimizer = optimizer
    }

    public var meanRow: Int? { sampling.meanRow }
    public var evaluatesCenter: Bool { sampling.center }

    public func candidateKind(row: Int) -> String? { sampling.kind(row: row) }

    public mutating func ask(into population: inout Population, key: StreamKey) {
        sampling.ask(into: &population, mean: mean, sigma: sigma, key: key)
        sampledKey = key
    }

    public mutating func tell(_ evaluated: Population) {
        precondition(evaluated.count == populationSize, "tell needs the \(populationSize) candidates of the last ask")
        let d = dimension
        let rows = sampling.rankedRows(of: evaluated, key: sampledKey)
        let shaped = shaping.weights(rows.map { evaluated.fitness[$0] })
        let own = rows.map { evaluated.isSample(row: $0, of: sampledKey) }
        var ownCount = 0
        var ownSum = 0.0
        for (i, isOwn) in own.enumerated() where isOwn {
            ownCount += 1
            ownSum += Double(shaped[i])
        }
        let baseline = ownCount > 0 ? Float(ownSum / Double(ownCount)) : 0
        var gradientMean = [Float](repeating: 0, count: d)
        var gradientSigma = [Float](repeating: 0, count: d)
        var noise = [Float](repeating: 0, count: d)
        for (i, row) in rows.enumerated() {
            MirroredSampling.readNoise(row: row, of: evaluated, mean: mean, sigma: sigma, own: own[i], into: &noise)
            let r = shaped[i]
            for j in 0..<d { gradientMean[j] += r * noise[j] }
            guard own[i] else { continue }
            let centred = r - baseline
            for j in 0..<d { gradientSigma[j] += centred * (noise[j] * noise[j] - sigma[j] * sigma[j]) / sigma[j] }
        }
        let scaleMean = 1 / Float(rows.count)
        let scaleSigma = ownCount > 0 ? 1 / Float(ownCount) : 0
        for j in 0..<d {
            gradientMean[j] *= scaleMean
            let s = sigma[j]
            let proposed = s + learningRateSigma * scaleSigma * gradientSigma[j]
            sigma[j] = min(max(proposed, (1 - maxSigmaChange) * s), (1 + maxSigmaChange) * s)
        }
        optimizer.step(&gradientMean, mean: &_mean.wrappedValue)
    }
}
