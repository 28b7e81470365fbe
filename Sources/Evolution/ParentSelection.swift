import Kernels

/// How parents are chosen from a population by fitness (higher is better).
///
/// The fitness-proportionate schemes (roulette wheel, stochastic universal sampling) use the
/// weights `wᵢ = fᵢ − min f`, so they accept negative fitness (PyGAD divides raw fitness by its
/// sum, which needs positive values); the worst individual then has no chance, and if all weights
/// are zero every individual is equally likely. Non-finite fitness (unevaluated −∞, NaN, +∞) ranks
/// below every finite value (weight 0 in the proportionate schemes). All schemes draw from the stream they are
/// given and nothing else.
public enum ParentSelection: Codable, Equatable, Sendable {
    /// Best of `size` individuals drawn uniformly with replacement (PyGAD's `tournament`, `K`).
    /// The best of `P` is chosen with probability `1 − (1 − 1/P)^K`: pressure grows with `K`.
    case tournament(size: Int)
    /// Linear ranking: the individual of rank `r` (1 = worst, `P` = best) is drawn with probability
    /// `r / (P(P+1)/2)` (PyGAD's `rank`).
    case rank
    /// Fitness-proportionate draws, each independent (PyGAD's `rws`).
    case rouletteWheel
    /// Baker's stochastic universal sampling (1987): one spin, `n` equally spaced pointers, so
    /// individual `i` is chosen `⌊eᵢ⌋` or `⌈eᵢ⌉` times, `eᵢ = n wᵢ / Σw` (PyGAD's `sus`).
    case stochasticUniversalSampling
    /// PyGAD's steady-state selection (`sss`): the best individuals in order, best first, cycling
    /// through the population if more parents than individuals are needed. Deterministic.
    case steadyState
    /// Uniform draws among the best `⌈fraction · P⌉` individuals.
    case truncation(fraction: Double)
    /// Uniform draws among all individuals.
    case random

    /// Indices of `count` parents chosen from `fitness`.
    public func select(count: Int, fitness: [Float], random: inout RandomStream) -> [Int] {
        let p = fitness.count
        precondition(p > 0, "cannot select parents from an empty population")
        var chosen = [Int](repeating: 0, count: count)
        switch self {
        case .tournament(let size):
            precondition(size >= 1, "tournament size must be at least 1")
            let clean = Self.sanitized(fitness)
            for k in 0..<count {
                var winner = random.below(p)
                for _ in 1..<size {
                    let contender = random.below(p)
                    if clean[contender] > clean[winner] || (clean[contender] == clean[winner] && contender < winner) {
                        winner = contender
                    }
                }
                chosen[k] = winner
            }
        case .rank:
            let order = Population.ranking(fitness)
            var weights = [Double](repeating: 0, count: p)
            for (position, index) in order.enumerated() { weights[index] = Double(p - position) }
            Self.roulette(weights: weights, into: &chosen, random: &random)
        case .rouletteWheel:
            Self.roulette(weights: Self.proportionateWeights(fitness), into: &chosen, random: &random)
        case .stochasticUniversalSampling:
            let cumulative = Self.cumulative(Self.proportionateWeights(fitness))
            let total = cumulative[p - 1]
            let spacing = total / Double(count)
            let start = random.uniform() * spacing
            var index = 0
            for k in 0..<count {
                let pointer = start + Double(k) * spacing
                while index < p - 1 && cumulative[index] <= pointer { index += 1 }
                chosen[k] = index
            }
        case .steadyState:
            let order = Population.ranking(fitness)
            for k in 0..<count { chosen[k] = order[k % p] }
        case .truncation(let fraction):
            precondition(fraction > 0 && fraction <= 1, "truncation fraction must be in (0, 1]")
            let order = Population.ranking(fitness)
            let kept = max(1, Int((fraction * Double(p)).rounded(.up)))
            for k in 0..<count { chosen[k] = order[random.below(kept)] }
        case .random:
            for k in 0..<count { chosen[k] = random.below(p) }
        }
        return chosen
    }

    /// Fitness with every non-finite value replaced by −∞, for comparisons.
    static func sanitized(_ fitness: [Float]) -> [Double] {
        fitness.map { Double(Population.rankingValue($0)) }
    }

    /// `wᵢ = fᵢ − min f` over finite values, 0 for non-finite ones, all ones if every weight is zero.
    static func proportionateWeights(_ fitness: [Float]) -> [Double] {
        let low = Double(fitness.filter { $0.isFinite }.min() ?? 0)
        let weights = fitness.map { $0.isFinite ? Double($0) - low : 0 }
        return weights.allSatisfy({ $0 == 0 }) ? [Double](repeating: 1, count: weights.count) : weights
    }

    static func cumulative(_ weights: [Double]) -> [Double] {
        var running = 0.0
        return weights.map { weight in
            running += weight
            return running
        }
    }

    /// Independent draws with probability `wᵢ / Σw`, by binary search on the cumulative sums.
    static func roulette(weights: [Double], into chosen: inout [Int], random: inout RandomStream) {
        let cumulative = cumulative(weights)
        let total = cumulative[cumulative.count - 1]
        for k in chosen.indices {
            let target = random.uniform() * total
            var low = 0
            var high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] > target { high = middle } else { low = middle + 1 }
            }
            chosen[k] = low
        }
    }
}
