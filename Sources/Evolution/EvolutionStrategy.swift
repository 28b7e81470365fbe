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
    /// The distribution's mean, the strategy's current estimate of the optimum.
    var center: [Float] { get }
    /// Samples `populationSize` candidates into `population` (resized if needed), with ids of
    /// `key`'s island and generation, unevaluated.
    mutating func ask(into population: inout Population, key: StreamKey)
    /// Updates the distribution from the fitness of the candidates of the last `ask`, in the same
    /// rows (the genes are not read back).
    mutating func tell(_ evaluated: Population)
}
