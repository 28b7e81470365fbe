import Kernels

// λ = candidates, n = genes, m = the decoder's latent size.

/// The residual part of the anchored latent: a decoder `D` outside this type (the attention
/// meta-learner) turns latents into corrections of the last `decoderRows` candidates,
/// `r = D(ρ ⊙ w) − D(0)` with `w ~ N(0, Iₘ)`, so `D(0) = 0` keeps the anchor exactly representable.
///
/// One generation: `ask` draws `w` (stream `(.decoding, row)` of the generation's key) when the
/// decoder is active; the caller reads `residualRequest`, decodes it and hands the corrections to
/// `addResiduals`; `tell` moves the mean by `η_μ Σₖ uₖ rₖ` and adapts `ρ` (see `SubspaceSNES`).
extension SubspaceSNES {
    /// Whether row `r` of the last `ask` carries a residual.
    func hasResidual(row r: Int) -> Bool { residualRows?.contains(r) ?? false }

    /// Zeroes the residual state of the new `ask` and, when the decoder is active, draws `w` for
    /// the last `decoderRows` rows.
    mutating func drawResidualNormals(key: StreamKey) {
        residualsDrawn = decoderActive && decoderRows > 0
        guard decoderRows > 0 else { return }
        let m = decoderLatentSize
        let lambda = populationSize
        for i in residualNormals.indices { residualNormals[i] = 0 }
        for i in residuals.indices { residuals[i] = 0 }
        guard residualsDrawn else { return }
        for r in lambda - decoderRows..<lambda {
            var random = key.stream(.decoding, individual: r)
            for i in 0..<m { residualNormals[r * m + i] = Float(random.gaussian()) }
        }
    }

    /// The rows of the last `ask` that carry a residual (`nil` when none does).
    var residualRows: Range<Int>? { residualsDrawn ? populationSize - decoderRows..<populationSize : nil }

    /// The rows of the last `ask` that need a residual and their latents `ρ ⊙ w` (`[rows × m]`),
    /// or `nil` when none does.
    public var residualRequest: (rows: Range<Int>, latents: [Float])? {
        guard let rows = residualRows else { return nil }
        let m = decoderLatentSize
        var latents = [Float](repeating: 0, count: rows.count * m)
        for (offset, r) in rows.enumerated() {
            for i in 0..<m { latents[offset * m + i] = rho[i] * residualNormals[r * m + i] }
        }
        return (rows, latents)
    }

    /// Adds the decoded corrections `r = D(ρ ⊙ w) − D(0)` (`[rows × n]`, the rows of
    /// `residualRequest`) to those rows of `population` and keeps them for `tell`.
    public mutating func addResiduals(_ corrections: [Float], to population: inout Population) {
        guard let rows = residualRows else { preconditionFailure("no residual rows in this generation") }
        let n = dimension
        precondition(
            corrections.count == rows.count * n,
            "corrections hold \(corrections.count) values, need \(rows.count) × \(n)")
        for (offset, r) in rows.enumerated() {
            for j in 0..<n {
                residuals[r * n + j] = corrections[offset * n + j]
                population.genes[r * n + j] += corrections[offset * n + j]
            }
        }
    }

    /// Turns the residual rows on from the next `ask`, with `ρ` (`[m]`, each above 0) as the
    /// latent step sizes (the caller's measure of its codes' spread).
    public mutating func activateDecoder(stepSizes: [Float]) {
        precondition(
            decoderRows > 0 && stepSizes.count == decoderLatentSize && stepSizes.allSatisfy { $0 > 0 && $0.isFinite },
            "the decoder needs \(decoderLatentSize) positive step sizes")
        rho = stepSizes
        decoderActive = true
    }

    /// Adds row `r`'s share of the mean step (`u · r_r`) and of `ρ`'s gradient (`u (w² − 1)`).
    func accumulateResidual(row r: Int, utility u: Float, step: inout [Float], gradientRho: inout [Float]) {
        let n = dimension
        let m = decoderLatentSize
        for j in 0..<n { step[j] += u * residuals[r * n + j] }
        for i in 0..<m {
            let w = residualNormals[r * m + i]
            gradientRho[i] += u * (w * w - 1)
        }
    }

    /// An immigrant in row `r` carries no residual of this strategy.
    mutating func clearResidual(row r: Int) {
        guard decoderRows > 0 else { return }
        let n = dimension
        let m = decoderLatentSize
        for j in 0..<n { residuals[r * n + j] = 0 }
        for i in 0..<m { residualNormals[r * m + i] = 0 }
    }
}
