/// Where immigrants go in the receiving population (pagmo2's replacement policies).
public enum ImmigrantReplacement: String, Codable, CaseIterable, Sendable {
    /// The immigrants replace the worst individuals, whatever their fitness.
    case replaceWorst
    /// pagmo2's `fair_replace`: immigrants, best first, each replace the current worst individual
    /// only if they are strictly better than it.
    case fair
}

extension Population {
    /// The best `k` individuals (best first), as a population of `k` rows: the emigrants.
    public func best(_ k: Int) -> Population {
        precondition(k >= 0 && k <= count, "cannot take \(k) individuals out of \(count)")
        var chosen = Population(count: k, dimension: dimension)
        for (slot, index) in ranking().prefix(k).enumerated() { chosen.copyIndividual(index, of: self, to: slot) }
        return chosen
    }

    /// Places evaluated `immigrants` in this population, keeping its size.
    ///
    /// Immigrants are taken best first and matched against this population's individuals worst
    /// first; with `.replaceWorst` every immigrant (up to the population's size) takes a place,
    /// with `.fair` one takes a place only while it is strictly better than the individual it
    /// would replace. Immigrants keep their ids, fitness and step sizes.
    /// - Returns: the number of immigrants placed.
    @discardableResult
    public mutating func insert(immigrants: Population, replacement: ImmigrantReplacement) -> Int {
        precondition(
            immigrants.dimension == dimension,
            "immigrants have \(immigrants.dimension) genes, the population \(dimension)")
        let worstFirst = Array(ranking().reversed())
        var placed = 0
        for incoming in immigrants.ranking() where placed < count {
            let target = worstFirst[placed]
            if replacement == .fair {
                let newcomer = Population.rankingValue(immigrants.fitness[incoming])
                let resident = Population.rankingValue(fitness[target])
                guard newcomer > resident else { break }
            }
            copyIndividual(incoming, of: immigrants, to: target)
            placed += 1
        }
        return placed
    }
}
