/// The evolution strategy of T. Salimans et al., *Evolution Strategies as a Scalable Alternative to
/// Reinforcement Learning* (2017): mirrored samples `μ ± σ uⱼ`, `uⱼ ~ N(0, I)`, one fixed σ, fitness
/// shaped by centred ranks, and the mean moved by a stochastic-gradient optimizer (Adam in the
/// paper) with weight decay.
///
/// With `rᵢ` the shaped fitness of the `N` ranked rows and `uᵢ = εᵢ / σ` their unit noise read back
/// from the genes (`MirroredSampling`),
///
///     g = (1 / (N σ)) Σᵢ rᵢ uᵢ,
///
/// and the optimizer (`MeanOptimizer`, whose weight decay adds `−λ_wd μ`: 0.005 in the paper) moves
/// `μ`. With `evaluatesCenter`, row 0 is the mean itself, scored and out of the update.
public struct OpenAIES: EvolutionStrategy, Equatable {
    public let dimension: Int
    public var populationSize: Int { sampling.rows }
    let sampling: MirroredSampling
    public let shaping: FitnessShaping
    /// σ, fixed.
    public let sigma: Float
    /// `μ`, `[D]`.
    @Packed public private(set) var mean: [Float]
    public private(set) var optimizer: MeanOptimizer
    var sampledKey: StreamKey?

    /// - Parameter sampleCount: `λ`, even (mirrored pairs).
    public init(
        mean: [Float], stepSize: Float, sampleCount: Int, optimizer: MeanOptimizer,
        shaping: FitnessShaping = .centredRanks,
        evaluatesCenter: Bool = true
    ) {
        precondition(!mean.isEmpty && stepSize > 0, "OpenAI-ES needs at least one dimension and a positive σ")
        precondition(
            sampleCount >= 2 && sampleCount % 2 == 0, "OpenAI-ES samples mirrored pairs: λ must be even and at least 2")
        dimension = mean.count
        sampling = MirroredSampling(pairs: sampleCount / 2, center: evaluatesCenter)
        self.shaping = shaping
        sigma = stepSize
        self.mean = mean
        self.optimizer = optimizer
    }

    public var meanRow: Int? { sampling.meanRow }
    public var evaluatesCenter: Bool { sampling.center }

    public func candidateKind(row: Int) -> String? { sampling.kind(row: row) }

    public mutating func ask(into population: inout Population, key: StreamKey) {
        sampling.ask(into: &population, mean: mean, sigma: [sigma], key: key)
        sampledKey = key
    }

    public mutating func tell(_ evaluated: Population) {
        precondition(evaluated.count == populationSize, "tell needs the \(populationSize) candidates of the last ask")
        let d = dimension
        let rows = sampling.rankedRows(of: evaluated, key: sampledKey)
        let shaped = shaping.weights(rows.map { evaluated.fitness[$0] })
        var gradient = [Float](repeating: 0, count: d)
        var noise = [Float](repeating: 0, count: d)
        let sigmas = [sigma]  // one σ for every gene, made once rather than per row
        for (i, row) in rows.enumerated() {
            MirroredSampling.readNoise(
                row: row, of: evaluated, mean: mean, sigma: sigmas, own: evaluated.isSample(row: row, of: sampledKey),
                into: &noise)
            let r = shaped[i]
            for j in 0..<d { gradient[j] += r * noise[j] }
        }
        // Σ rᵢ εᵢ / (N σ²) = Σ rᵢ uᵢ / (N σ).
        let scale = 1 / (Float(rows.count) * sigma * sigma)
        for j in 0..<d { gradient[j] *= scale }
        optimizer.step(&gradient, mean: &_mean.wrappedValue)
    }
}
