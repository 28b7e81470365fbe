/// A search distribution driven by ask and tell, one generation at a time.
///
/// `ask` samples `populationSize` candidates into a population from the `sampling` stream of a
/// `(seed, island, generation)` key; the caller evaluates them (higher fitness is better); `tell`
/// updates the distribution from their fitness. The whole state, including the samples between
/// `ask` and `tell`, is `Codable`, so a checkpoint can be taken at any point.
public protocol EvolutionStrategy: Codable, Sendable {
    /// Candidates per generation, `λ`.
    var populationSize: Int { get }
    /// Genes per candidate, `D`.
    var dimension: Int { get }
    /// Samples `populationSize` candidates into `population` (resized if needed), with ids of
    /// `key`'s island and generation, unevaluated.
    mutating func ask(into population: inout Population, key: StreamKey)
    /// Updates the distribution from the fitness of the candidates of the last `ask`, in the same
    /// rows. The genes of a row are read back only where its id is not the one `ask` gave it (an
    /// immigrant placed by migration): the strategy then takes that row as a sample of its own
    /// distribution, its step rescaled to at most the expected length of a sample
    /// (`E‖N(0, I)‖ ≈ √D` in the distribution's own metric), so a far-away immigrant pulls the
    /// mean by a bounded step. One coordinate of a clipped step can still lie up to √D σ out, so
    /// SNES and SubspaceSNES leave immigrants out of their step-size gradients (a bad-ranked one
    /// would collapse σ there, a good one blow it up); CMA-ES and sep-CMA-ES weight only their best
    /// μ, so an immigrant enters their covariance only when it ranks among them.
    mutating func tell(_ evaluated: Population)
    /// What kind of candidate row `row` of the last `ask` is (`nil`: all rows are alike).
    func candidateKind(row: Int) -> String?
    /// The row of each `ask` that is the mean itself (`nil`: none).
    var meanRow: Int? { get }
}

extension EvolutionStrategy {
    public func candidateKind(row: Int) -> String? { nil }
    public var meanRow: Int? { nil }
}

extension Population {
    /// Whether row `row` still holds the candidate an `ask` with `key` wrote there (its id), rather
    /// than an immigrant.
    public func isSample(row: Int, of key: StreamKey?) -> Bool {
        guard let key else { return false }
        return ids[row] == Population.individualID(island: key.island, generation: key.generation, index: row)
    }
}

/// `E‖N(0, I)‖` in `n` dimensions, `√n (1 − 1/(4n) + 1/(21n²))` (Hansen's tutorial).
public func expectedGaussianNorm(_ n: Int) -> Double {
    let nd = Double(n)
    return nd.squareRoot() * (1 - 1 / (4 * nd) + 1 / (21 * nd * nd))
}

/// Scales `step` (`n` values) in place so that its norm is at most `limit`.
func clipNorm(_ step: UnsafeMutablePointer<Double>, count n: Int, limit: Double) {
    var squared = 0.0
    for j in 0..<n { squared += step[j] * step[j] }
    let norm = squared.squareRoot()
    guard norm > limit, norm > 0 else { return }
    let scale = limit / norm
    for j in 0..<n { step[j] *= scale }
}

/// Scales the Float `step` in place so that its norm (summed in Double) is at most `limit`.
func clipNorm(_ step: inout [Float], limit: Double) {
    var squared = 0.0
    for x in step { squared += Double(x) * Double(x) }
    let norm = squared.squareRoot()
    guard norm > limit, norm > 0 else { return }
    let scale = Float(limit / norm)
    for j in step.indices { step[j] *= scale }
}
