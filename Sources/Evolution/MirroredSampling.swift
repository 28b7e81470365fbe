/// Mirrored (antithetic) Gaussian sampling around a mean, shared by `PGPE` and `OpenAIES`.
///
/// A generation has `pairs` pairs of samples, after an optional first row that is the mean itself
/// (the *center*, evaluated so the run can hand back the mean):
///
///     row c + 2j = μ + σ ⊙ nⱼ,   row c + 2j + 1 = μ − σ ⊙ nⱼ,   nⱼ ~ N(0, I),   c = 1 with a center, else 0,
///
/// with `nⱼ` drawn from `key.stream(.sampling, individual: j)` by the ziggurat
/// (`RandomStream.gaussianZiggurat`, about 4× faster than the polar method the older strategies
/// use), so pairs are drawn in parallel with the same bits on any number of threads and machines. `σ` is one value per gene or one for all (`sigma` of
/// length 1).
///
/// Strategies read the noise `εᵢ = xᵢ − μ` of every row back from its genes after evaluation. A
/// row whose id is not the one the ask gave it is an immigrant placed by migration: its `ε` is
/// clipped to the expected length of a sample in the distribution's metric,
/// `‖ε / σ‖ ≤ E‖N(0, I_D)‖` (Hansen 2011 on injected solutions), so a far-away immigrant pulls the
/// mean by a bounded step; it joins the ranking as an unpaired sample.
struct MirroredSampling: Codable, Equatable, Sendable {
    /// Sample pairs per generation, `λ / 2`.
    let pairs: Int
    /// Whether row 0 is the mean itself.
    let center: Bool

    /// Rows per generation, `λ` (+ 1 with the center).
    var rows: Int { 2 * pairs + (center ? 1 : 0) }

    /// The row that holds the mean itself (`nil` without a center).
    var meanRow: Int? { center ? 0 : nil }

    /// `center` for the mean's row, `nil` for a sample (all samples are alike).
    func kind(row: Int) -> String? { row == meanRow ? "center" : nil }

    /// Writes a generation into `population` (resized to `rows`), ids and fitness reset by
    /// `markAsked`.
    func ask(into population: inout Population, mean: [Float], sigma: [Float], key: StreamKey) {
        let d = mean.count
        precondition(population.dimension == d, "population has \(population.dimension) genes, the strategy \(d)")
        precondition(sigma.count == 1 || sigma.count == d, "σ must have one value or one per gene")
        if population.count != rows { population.resize(count: rows) }
        let first = center ? 1 : 0
        let sigmaStride = sigma.count == 1 ? 0 : 1
        mean.withUnsafeBufferPointer { mu in
            sigma.withUnsafeBufferPointer { s in
                population.genes.withUnsafeMutableBufferPointer { genesBuffer in
                    let genes = genesBuffer.baseAddress!
                    if center { for j in 0..<d { genes[j] = mu[j] } }
                    forEachRow(pairs, genesPerRow: 2 * d) { pair in
                        var random = key.stream(.sampling, individual: pair)
                        let plus = genes + (first + 2 * pair) * d
                        let minus = plus + d
                        for j in 0..<d {
                            let e = s[j * sigmaStride] * Float(random.gaussianZiggurat())
                            plus[j] = mu[j] + e
                            minus[j] = mu[j] - e
                        }
                    }
                }
            }
        }
        population.markAsked(key: key, stepSize: 0)
    }

    /// The rows that take part in the update, in row order: every row but the center, unless an
    /// immigrant took the center's place (it then counts as a sample).
    func rankedRows(of evaluated: Population, key: StreamKey?) -> [Int] {
        (0..<evaluated.count).filter { !(center && $0 == 0 && evaluated.isSample(row: 0, of: key)) }
    }

    /// `ε = x − μ` of row `row`, into `noise`; clipped to `‖ε/σ‖ ≤ E‖N(0, I)‖` unless `own`.
    static func readNoise(
        row: Int, of evaluated: Population, mean: [Float], sigma: [Float], own: Bool, into noise: inout [Float]
    ) {
        let d = mean.count
        let sigmaStride = sigma.count == 1 ? 0 : 1
        evaluated.genes.withUnsafeBufferPointer { genes in
            for j in 0..<d { noise[j] = genes[row * d + j] - mean[j] }
        }
        guard !own else { return }
        var squared = 0.0
        for j in 0..<d {
            let u = Double(noise[j]) / Double(sigma[j * sigmaStride])
            squared += u * u
        }
        let limit = expectedGaussianNorm(d)
        guard squared.squareRoot() > limit else { return }
        let scale = Float(limit / squared.squareRoot())
        for j in 0..<d { noise[j] *= scale }
    }
}
