/// What an island runs, one generation at a time, over a genome space of any dimension (pagmo2's
/// *algorithm*: it evolves a population and knows nothing of islands, ranks or migration).
///
/// A generation, as the island model drives it:
/// 1. `nextGeneration(_:scratch:key:)` takes the fitness of the evaluated `population` — migration
///    may have replaced some of its rows with immigrants since the last call — updates the
///    algorithm's state, and writes the next candidates into `population`; it returns the rows the
///    caller must evaluate.
/// 2. The caller evaluates those rows (in the genome space, or after decoding).
/// 3. Migration may place immigrants (evaluated, with their fitness) into `population`.
///
/// Every random number is drawn from streams of `key` (seed, island, generation), and the whole
/// state is `Codable`, so a checkpoint of the population and the state resumes bit for bit.
public protocol IslandAlgorithm: Codable, Sendable {
    /// Whether `nextGeneration` needs `scratch`, a second buffer of the population's shape (the GA
    /// breeds parents into children; an evolution strategy samples in place).
    var needsScratch: Bool { get }
    /// One generation: tell the algorithm the fitness of `population`, ask it for the next
    /// candidates (in `population`, resized if the algorithm needs another count).
    /// - Returns: the rows of `population` to evaluate.
    mutating func nextGeneration(_ population: inout Population, scratch: inout Population, key: StreamKey) -> Range<
        Int
    >
    /// What kind of candidate row `row` of the last generation is (`nil`: all rows are alike). The
    /// island logs the kind of its best child.
    func candidateKind(row: Int) -> String?
    /// The row of the last generation that holds the algorithm's search mean itself, evaluated
    /// (`nil`: none). On a task that re-scores every generation the island hands back this row.
    var meanRow: Int? { get }
}

extension IslandAlgorithm {
    public func candidateKind(row: Int) -> String? { nil }
    public var meanRow: Int? { nil }
}

/// An island algorithm whose population rows are *codes*, not genomes (`LowRankES`): the island
/// evaluates the codes as they are where the task can, else decodes them into genomes a few at a
/// time; it sends decoded genomes as emigrants, and hands immigrants (genomes) to the algorithm
/// instead of placing them in the population.
public protocol DecodingIslandAlgorithm: IslandAlgorithm {
    /// Genes of the genome a code stands for, `D`.
    var genomeDimension: Int { get }
    /// Numbers per code (a row of the population).
    var codeDimension: Int { get }
    /// Writes the genomes of `rows` of `population` into `genomes`, `[rows.count × D]`.
    func decode(_ population: Population, rows: Range<Int>, into genomes: UnsafeMutableBufferPointer<Float>)
    /// Evaluated genomes from other islands, for the next generation's update.
    mutating func receive(immigrants: Population)
}

extension GeneticAlgorithm: IslandAlgorithm {
    public var needsScratch: Bool { true }

    /// `breedGeneration` from `population` into `scratch`, which then becomes the population.
    public mutating func nextGeneration(_ population: inout Population, scratch: inout Population, key: StreamKey)
        -> Range<Int>
    {
        if scratch.count != population.count || scratch.dimension != population.dimension {
            scratch = Population(count: population.count, dimension: population.dimension)
        }
        let rows = breedGeneration(parents: population, into: &scratch, key: key)
        swap(&population, &scratch)
        return rows
    }
}

/// An evolution strategy as an island algorithm: `tell` with the last samples' fitness (the first
/// generation has none), then `ask` for `λ` new ones in place.
///
/// Immigrants that migration placed in the population are rows whose id is not the one `ask`
/// gave them; the strategy reads their genes back as samples of its own distribution (see each
/// strategy's `tell`), so they join the ranking of the next update, as pagmo2's CMA-ES re-reads
/// its population at the start of `evolve`.
public struct StrategyAlgorithm<Strategy: EvolutionStrategy>: IslandAlgorithm {
    public private(set) var strategy: Strategy
    /// Whether the population holds samples of the last `ask` (false before the first one).
    public private(set) var hasSamples = false

    public init(_ strategy: Strategy) {
        self.strategy = strategy
    }

    public var needsScratch: Bool { false }

    public mutating func nextGeneration(_ population: inout Population, scratch: inout Population, key: StreamKey)
        -> Range<Int>
    {
        if hasSamples { strategy.tell(population) }
        strategy.ask(into: &population, key: key)
        hasSamples = true
        return 0..<population.count
    }

    public func candidateKind(row: Int) -> String? { strategy.candidateKind(row: row) }

    public var meanRow: Int? { strategy.meanRow }

    /// Runs `body` on the strategy in place (a caller that adds to its samples: `SubspaceSNES`'s
    /// decoded residuals).
    public mutating func withStrategy<Result>(_ body: (inout Strategy) throws -> Result) rethrows -> Result {
        try body(&strategy)
    }
}
