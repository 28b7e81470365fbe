import Foundation

/// The strategy constants of CMA-ES (Hansen's tutorial, arXiv:1604.00772, Table 1, positive
/// weights only), shared by `CMAES` and `SepCMAES`. With `n` genes:
/// - `λ = 4 + ⌊3 ln n⌋` by default, `μ = ⌊λ/2⌋`, `wᵢ ∝ ln(μ + ½) − ln i` (`Σ wᵢ = 1`),
///   `μ_eff = 1/Σ wᵢ²`;
/// - `c_σ = (μ_eff + 2)/(n + μ_eff + 5)`, `d_σ = 1 + 2 max(0, √((μ_eff − 1)/(n + 1)) − 1) + c_σ`;
/// - `c_c = (4 + μ_eff/n)/(n + 4 + 2μ_eff/n)`;
/// - `c₁ = s · 2/((n + 1.3)² + μ_eff)`, `c_μ = min(1 − c₁, s · 2(μ_eff − 2 + 1/μ_eff)/((n + 2)² + μ_eff))`
///   with `s = 1` (CMA-ES) or `s = (n + 2)/3` (sep-CMA-ES, Ros & Hansen 2008), `c₁` at most 1;
/// - `E‖N(0, I)‖ ≈ √n (1 − 1/(4n) + 1/(21n²))`.
public struct CMAConstants: Codable, Equatable, Sendable {
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
    public let expectedNorm: Double

    /// - Parameters:
    ///   - n: genes.
    ///   - populationSize: `λ`, or nil for the default.
    ///   - covarianceScale: `s` above.
    public init(dimension n: Int, populationSize: Int?, covarianceScale s: Double = 1) {
        let nd = Double(n)
        let lambda = populationSize ?? 4 + Int(3 * Foundation.log(nd))
        precondition(lambda >= 2, "CMA-ES needs a population of at least 2")
        let mu = lambda / 2
        let raw = (1...mu).map { Foundation.log(Double(mu) + 0.5) - Foundation.log(Double($0)) }
        let total = raw.reduce(0, +)
        let w = raw.map { $0 / total }
        let muEff = 1 / w.reduce(0) { $0 + $1 * $1 }
        self.populationSize = lambda
        parents = mu
        weights = w
        self.muEff = muEff
        cSigma = (muEff + 2) / (nd + muEff + 5)
        dSigma = 1 + 2 * max(0, ((muEff - 1) / (nd + 1)).squareRoot() - 1) + cSigma
        cc = (4 + muEff / nd) / (nd + 4 + 2 * muEff / nd)
        c1 = min(1, s * 2 / ((nd + 1.3) * (nd + 1.3) + muEff))
        cMu = min(1 - c1, s * 2 * (muEff - 2 + 1 / muEff) / ((nd + 2) * (nd + 2) + muEff))
        expectedNorm = expectedGaussianNorm(n)
    }
}
