import Dispatch
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

    /// How many children one generation of a population of `populationSize` needs.
    public func childCount(populationSize: Int) -> Int {
        survivors == .generational ? populationSize - elites : populationSize
    }

    /// Makes `children.count` children of `parents`.
    ///
    /// Parents are chosen in pairs `(2k, 2k+1)` from the `selection` stream; child `k` is then
    /// made from its own `crossover` and `mutation` streams (`key.stream(_, individual: k)`), so
    /// children are made in parallel with results independent of the number of threads. Child `k`
    /// gets id `Population.individualID(key.island, key.generation, k)`, its first parent's step
    /// size (before self-adaptation) and fitness `Population.unevaluated`.
    /// - Parameters:
    ///   - parents: an evaluated population.
    ///   - children: preallocated, same dimension; its count is the number of children made.
    ///   - key: `(seed, island, generation)` of the generation being made.
    public func breed(parents: Population, into children: inout Population, key: StreamKey) {
        precondition(parents.count > 0, "cannot breed from an empty population")
        precondition(parents.dimension == children.dimension, "parents have \(parents.dimension) genes, children \(children.dimension)")
        let n = children.count
        let d = parents.dimension
        var selectionStream = key.stream(.selection)
        let chosen = selection.select(count: 2 * n, fitness: parents.fitness, random: &selectionStream)
        let mean = parents.meanFitness
        let belowMean = chosen.map { parents.fitness[$0] < mean }
        let parentSteps = parents.stepSizes
        let (crossover, crossoverProbability, mutation, bounds) = (self.crossover, self.crossoverProbability, self.mutation, self.bounds)

        children.genes.withUnsafeMutableBufferPointer { childGenes in
            children.stepSizes.withUnsafeMutableBufferPointer { childSteps in
                parents.genes.withUnsafeBufferPointer { parentGenes in
                    let out = childGenes.baseAddress!
                    let steps = childSteps.baseAddress!
                    let from = parentGenes.baseAddress!
                    let makeChild = { (k: Int) in
                        let a = chosen[2 * k], b = chosen[2 * k + 1]
                        let child = out + k * d
                        var crossing = key.stream(.crossover, individual: k)
                        if crossoverProbability >= 1 || crossing.uniform() < crossoverProbability {
                            crossover.apply(child: child, a: from + a * d, b: from + b * d, d: d, random: &crossing)
                        } else {
                            child.update(from: from + a * d, count: d)
                        }
                        var mutating = key.stream(.mutation, individual: k)
                        var step = parentSteps[a]
                        let row = UnsafeMutableBufferPointer(start: child, count: d)
                        mutation.apply(to: row, stepSize: &step, belowMean: belowMean[2 * k], random: &mutating)
                        steps[k] = step
                        bounds?.apply(to: row)
                    }
                    if n * d >= 1 << 16 {
                        DispatchQueue.concurrentPerform(iterations: n, execute: makeChild)
                    } else {
                        for k in 0 ..< n { makeChild(k) }
                    }
                }
            }
        }
        for k in 0 ..< n {
            children.fitness[k] = Population.unevaluated
            children.ids[k] = Population.individualID(island: key.island, generation: key.generation, index: k)
        }
    }

    /// Writes the next population (of `next.count` individuals) from evaluated parents and children.
    ///
    /// `.generational`: the best `elites` parents, bit for bit with their ids and fitness, then the
    /// children best first. `.plus`: the best of parents and children together. Ties go to parents
    /// first, then to the lower index.
    public func selectSurvivors(parents: Population, children: Population, into next: inout Population) {
        precondition(parents.dimension == children.dimension && next.dimension == parents.dimension, "populations differ in dimension")
        let total = next.count
        var picks: [(fromParents: Bool, index: Int)] = []
        switch survivors {
        case .generational:
            let kept = min(elites, parents.count, total)
            precondition(kept + children.count >= total, "\(kept) elites and \(children.count) children cannot fill \(total) places")
            picks += parents.ranking().prefix(kept).map { (true, $0) }
            picks += children.ranking().prefix(total - kept).map { (false, $0) }
        case .plus:
            precondition(parents.count + children.count >= total, "parents and children cannot fill \(total) places")
            let pooled = parents.fitness + children.fitness
            picks = Population.ranking(pooled).prefix(total).map { $0 < parents.count ? (true, $0) : (false, $0 - parents.count) }
        }
        for (slot, pick) in picks.enumerated() {
            next.copyIndividual(pick.index, of: pick.fromParents ? parents : children, to: slot)
        }
    }
}
