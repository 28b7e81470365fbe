import Foundation

/// How an evolution strategy turns the fitness of its ranked candidates into the weights of its
/// gradient estimate.
///
/// With `N` candidates ranked best first (`Population.ranking`: ties keep the lower row first,
/// non-finite fitness ranks last), the candidate at position `p` (0 = best) gets
/// - `centredRanks`: `(N − 1 − p)/(N − 1) − ½`, in `[−½, ½]` (Salimans et al. 2017; EvoJAX's
///   `process_scores`): invariant to any monotone change of the fitness;
/// - `snesUtilities`: SNES's utilities `uₚ = max(0, ln(N/2 + 1) − ln(p + 1)) / Σ − 1/N` (Wierstra et
///   al. 2014), which weight only the better half;
/// - `raw`: the fitness itself, minus the mean of the finite ones (a non-finite fitness counts as
///   the lowest finite one).
///
/// Every shaping returns weights that sum to zero (up to rounding), so a baseline is built in.
public enum FitnessShaping: String, Codable, Sendable, CaseIterable {
    case centredRanks = "centred_ranks"
    case snesUtilities = "snes_utilities"
    case raw

    /// The shaped weight of each entry of `fitness` (same order as `fitness`).
    public func weights(_ fitness: [Float]) -> [Float] {
        let n = fitness.count
        guard n > 0 else { return [] }
        var shaped = [Float](repeating: 0, count: n)
        switch self {
        case .centredRanks:
            guard n > 1 else { return shaped }
            for (position, row) in Population.ranking(fitness).enumerated() {
                shaped[row] = Float(Double(n - 1 - position) / Double(n - 1) - 0.5)
            }
        case .snesUtilities:
            let utilities = SNES.utilities(populationSize: n)
            for (position, row) in Population.ranking(fitness).enumerated() { shaped[row] = utilities[position] }
        case .raw:
            let finite = fitness.filter(\.isFinite)
            guard let lowest = finite.min() else { return shaped }
            let values = fitness.map { Double($0.isFinite ? $0 : lowest) }
            let mean = values.reduce(0, +) / Double(n)
            for i in 0..<n { shaped[i] = Float(values[i] - mean) }
        }
        return shaped
    }
}
