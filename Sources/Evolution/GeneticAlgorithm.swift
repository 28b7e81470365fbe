import Kernels

/// A genetic algorithm's operators, applied one generation at a time.
///
/// One generation, as the island model drives it:
/// 1. `breed(parents:into:key:)` — select parents, cross them, mutate the children, keep them in
///    bounds; children are unevaluated.
/// 2. The caller evaluates the children (in the genome space or after decoding).
/// 3. `selectSurvivors(parents:children:into:)` — elitism or (μ+λ) survival.
/// 4. The caller may `insert(immigrants:replacement:)` into the survivors.
///
/// With `.generational` survival, `breedGeneration(parents:into:key:)` does steps 1 and 3 at once,
/// writing elites and children straight into the next population (the fast path for long genomes:
/// each generation then moves the genome matrix once, not twice).
///
/// The value holds configuration only; the state of a run is its `Population` and its generation
/// index, and every random number is drawn from streams keyed by `(seed, island, generation)`, so
/// checkpointing the population and the key is enough to resume a run bit for bit. It is
/// `Codable` for configuration files.
public struct GeneticAlgorithm: Codable, Equatable, Sendable {
    /// How survivors are chosen from parents and children.
    public enum Survivors: String, Codable, CaseIterable, Sendable {
        /// The best `elites` parents unchanged, then the best children fill the rest (PyGAD's
        /// `keep_elitism`; with `elites = 0`, children replace their parents entirely).
        case generational
        /// The best `P` of parents and children together, the (μ+λ) scheme (elitist by nature).
        case plus
    }

    public var selection: ParentSelection
    public var crossover: Crossover
    /// Probability that a child is made by `crossover`; otherwise it is a copy of its first parent.
    public var crossoverProbability: Double
    public var mutation: Mutation
    /// Gene bounds enforced after crossover and mutation, if any.
    public var bounds: GeneBounds?
    /// Parents kept unchanged in each generation (`.generational` survival).
    public var elites: Int
    public var survivors: Survivors

    public init(
        selection: ParentSelection = .tournament(size: 3),
        crossover: Crossover = .uniform,
        crossoverProbability: Double = 0.9,
        mutation: Mutation = Mutation(kind: .gaussian(sigma: 0.1), genes: .rate(0.01)),
        bounds: GeneBounds? = nil,
        elites: Int = 1,
        survivors: Survivors = .generational
    ) {
        self.selection = selection
        self.crossover = crossover
        self.crossoverProbability = crossoverProbability
        self.mutation = mutation
        self.bounds = bounds
        self.elites = elites
        self.survivors = survivors
    }

    /// Genes crossed, mutated and bounded together while they are in the core's cache (16 KiB).
    static let chunk = 4_096

    /// How many children one generation of a population of `populationSize` needs.
    public func childCount(populationSize: Int) -> Int {
        survivors == .generational ? populationSize - elites : populationSize
    }

    /// Makes `children.count` children of `parents`.
    ///
    /// Parents are chosen in pairs `(2i, 2i+1)` from the `selection` stream; child `i` is then
    /// made from its own `crossover` and `mutation` streams (`key.stream(_, individual: i)`), so
    /// children are made in parallel with results independent of the number of threads. Child `i`
    /// gets id `Population.individualID(key.island, key.generation, i)`, its first parent's step
    /// size (before self-adaptation) and fitness `Population.unevaluated`.
    /// - Parameters:
    ///   - parents: an evaluated population.
    ///   - children: preallocated, same dimension; its count is the number of children made.
    ///   - key: `(seed, island, generation)` of the generation being made.
    public func breed(parents: Population, into children: inout Population, key: StreamKey) {
        breed(parents: parents, into: &children, rows: 0..<children.count, key: key)
    }

    /// One `.generational` generation written straight into the next population, with no copy of
    /// the children afterwards: rows `0 ..< elites` of `next` receive the best parents unchanged
    /// (ids and fitness too) and rows `elites ..< next.count` the children, made exactly as
    /// `breed` makes them (child `i` in row `elites + i`). Once the caller has evaluated those
    /// rows, `next` is the new population — the same individuals as `breed` followed by
    /// `selectSurvivors` when every child survives, without moving `[P × D]` floats twice.
    /// - Returns: the rows to evaluate, `elites ..< next.count`.
    @discardableResult
    public func breedGeneration(parents: Population, into next: inout Population, key: StreamKey) -> Range<Int> {
        precondition(survivors == .generational, "breedGeneration needs .generational survival")
        let kept = min(elites, parents.count, next.count)
        for (slot, index) in parents.ranking().prefix(kept).enumerated() {
            next.copyIndividual(index, of: parents, to: slot)
        }
        breed(parents: parents, into: &next, rows: kept..<next.count, key: key)
        return kept..<next.count
    }

    /// Child `i` of the generation goes to row `rows.lowerBound + i`.
    private func breed(parents: Population, into children: inout Population, rows: Range<Int>, key: StreamKey) {
        precondition(parents.count > 0, "cannot breed from an empty population")
        precondition(
            parents.dimension == children.dimension,
            "parents have \(parents.dimension) genes, children \(children.dimension)")
        let n = rows.count
        let d = parents.dimension
        if let bounds {
            precondition(
                bounds.low.count == 1 || bounds.low.count == d,
                "bounds are for \(bounds.low.count) genes, genomes have \(d)")
        }
        var selectionStream = key.stream(.selection)
        let chosen = selection.select(count: 2 * n, fitness: parents.fitness, random: &selectionStream)
        let mean = parents.meanFitness
        let belowMean = chosen.map { parents.fitness[$0] < mean }
        let parentSteps = parents.stepSizes
        let (crossover, crossoverProbability, mutation, bounds) = (
            self.crossover, self.crossoverProbability, self.mutation, self.bounds
        )

        children.genes.withUnsafeMutableBufferPointer { childGenes in
            children.stepSizes.withUnsafeMutableBufferPointer { childSteps in
                parents.genes.withUnsafeBufferPointer { parentGenes in
                    let out = childGenes.baseAddress! + rows.lowerBound * d
                    let steps = childSteps.baseAddress! + rows.lowerBound
                    let from = parentGenes.baseAddress!
                    let makeChild = { (i: Int) in
                        let a = from + chosen[2 * i] * d
                        let b = from + chosen[2 * i + 1] * d
                        let child = out + i * d
                        var crossing = key.stream(.crossover, individual: i)
                        let crosses = crossoverProbability >= 1 || crossing.uniform() < crossoverProbability
                        let scheme = crosses ? crossover : .none
                        let cuts = scheme.drawCuts(d: d, random: &crossing)
                        var mutating = key.stream(.mutation, individual: i)
                        var step = parentSteps[chosen[2 * i]]
                        var sites = mutation.begin(
                            dimension: d, stepSize: &step, belowMean: belowMean[2 * i], random: &mutating)
                        steps[i] = step
                        // Cross, mutate and bound one cache-sized chunk at a time.
                        var start = 0
                        while start < d {
                            let end = min(d, start + Self.chunk)
                            scheme.apply(child: child, a: a, b: b, genes: start..<end, cuts: cuts, random: &crossing)
                            mutation.apply(to: child, upTo: end, sites: &sites, random: &mutating)
                            bounds?.apply(
                                to: UnsafeMutableBufferPointer(start: child + start, count: end - start),
                                firstGene: start)
                            start = end
                        }
                    }
                    forEachRow(n, genesPerRow: d, makeChild)
                }
            }
        }
        for i in 0..<n {
            children.fitness[rows.lowerBound + i] = Population.unevaluated
            children.ids[rows.lowerBound + i] = Population.individualID(
                island: key.island, generation: key.generation, index: i)
        }
    }

    /// Writes the next population (of `next.count` individuals) from evaluated parents and children.
    ///
    /// `.generational`: the best `elites` parents, bit for bit with their ids and fitness, then the
    /// children best first. `.plus`: the best of parents and children together. Ties go to parents
    /// first, then to the lower index.
    public func selectSurvivors(parents: Population, children: Population, into next: inout Population) {
        precondition(
            parents.dimension == children.dimension && next.dimension == parents.dimension,
            "populations differ in dimension")
        let total = next.count
        var picks: [(fromParents: Bool, index: Int)] = []
        switch survivors {
        case .generational:
            let kept = min(elites, parents.count, total)
            precondition(
                kept + children.count >= total,
                "\(kept) elites and \(children.count) children cannot fill \(total) places")
            picks += parents.ranking().prefix(kept).map { (true, $0) }
            picks += children.ranking().prefix(total - kept).map { (false, $0) }
        case .plus:
            precondition(parents.count + children.count >= total, "parents and children cannot fill \(total) places")
            let pooled = parents.fitness + children.fitness
            picks = Population.ranking(pooled).prefix(total).map {
                $0 < parents.count ? (true, $0) : (false, $0 - parents.count)
            }
        }
        for (slot, pick) in picks.enumerated() {
            next.copyIndividual(pick.index, of: pick.fromParents ? parents : children, to: slot)
        }
    }
}
