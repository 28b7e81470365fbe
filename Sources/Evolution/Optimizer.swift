import Dispatch

/// Runs a whole optimisation in one call, in the spirit of PyGAD's `GA(...).run()`: an algorithm,
/// a batch fitness function, stop criteria and an optional per-generation callback.
///
/// Fitness is maximised; to minimise `f`, return `−f`. The fitness closure receives a whole
/// population (one row per candidate) and returns one value per row, so it can evaluate in batches
/// or in parallel. A run is reproducible: its numbers depend only on `seed` and `island` (a run
/// stopped by wall time stops at a time-dependent generation, nothing else changes).
///
/// ```swift
/// let optimizer = Optimizer(algorithm: .cmaes(populationSize: nil), dimension: 10,
///                           start: .point(mean: Array(repeating: 0.1, count: 10), spread: 0.3), seed: 7)
/// let result = try optimizer.run(stop: StopCriteria(maxEvaluations: 20_000, targetFitness: -1e-8)) { batch in
///     (0 ..< batch.count).map { -Float(BenchmarkFunction.rosenbrock.value(batch.row($0))) }
/// }
/// ```
public struct Optimizer: Codable, Equatable, Sendable {
    /// The search algorithm.
    public enum Algorithm: Codable, Equatable, Sendable {
        /// A genetic algorithm with `populationSize` individuals.
        case genetic(GeneticAlgorithm, populationSize: Int)
        /// SNES; `λ = 4 + ⌊3 ln D⌋` when `populationSize` is nil.
        case snes(populationSize: Int?)
        /// CMA-ES; `λ = 4 + ⌊3 ln D⌋` when `populationSize` is nil.
        case cmaes(populationSize: Int?)
    }

    /// Where the search starts.
    public enum Start: Codable, Equatable, Sendable {
        /// GA: every gene uniform in `[low, high)`. ES: a mean drawn uniformly in the box and a step
        /// size of a quarter of its width.
        case uniform(low: Float, high: Float)
        /// GA: genes `mean + spread · N(0, 1)`. ES: this mean and step size `spread`.
        case point(mean: [Float], spread: Float)
    }

    public var algorithm: Algorithm
    public var dimension: Int
    public var start: Start
    public var seed: UInt64
    /// The island index of every stream key (0 outside the island model).
    public var island: Int

    public init(algorithm: Algorithm, dimension: Int, start: Start, seed: UInt64, island: Int = 0) {
        self.algorithm = algorithm
        self.dimension = dimension
        self.start = start
        self.seed = seed
        self.island = island
    }

    /// Runs until a stop criterion is met or `onGeneration` returns `.stop`.
    /// - Parameters:
    ///   - stop: at least one limit.
    ///   - onGeneration: called after every generation.
    ///   - fitness: one fitness per row of the population it is given (higher is better).
    /// - Throws: `OptimizerError` for an unbounded run, a bad start or a fitness closure returning the
    ///   wrong number of values; whatever `fitness` or `onGeneration` throw.
    public func run(
        stop: StopCriteria,
        onGeneration: ((GenerationReport) throws -> GenerationControl)? = nil,
        fitness: (Population) throws -> [Float]
    ) throws -> OptimizationResult {
        guard !stop.isUnbounded else { throw OptimizerError.unbounded }
        if case .point(let mean, let spread) = start, mean.count != dimension || !(spread > 0) {
            throw OptimizerError.badStart(
                "the start point has \(mean.count) genes for dimension \(dimension) and spread \(spread); expected \(dimension) genes and a positive spread"
            )
        }
        if case .uniform(let low, let high) = start, !(high > low) {
            throw OptimizerError.badStart("the start box [\(low), \(high)] is empty; expected low < high")
        }
        var run = OptimizerRunState(started: DispatchTime.now().uptimeNanoseconds)
        func evaluate(_ population: inout Population) throws {
            let values = try fitness(population)
            guard values.count == population.count else {
                throw OptimizerError.fitnessCount(expected: population.count, got: values.count)
            }
            population.fitness = values
        }

        switch algorithm {
        case .genetic(let ga, let size):
            guard size >= 2, ga.elites >= 0, ga.elites < size else {
                throw OptimizerError.badStart(
                    "a GA needs at least 2 individuals and 0 ≤ elites < population size; got \(size) and \(ga.elites)")
            }
            let firstKey = StreamKey(seed: seed, island: island, generation: 0)
            var population: Population
            switch start {
            case .uniform(let low, let high):
                population = .uniform(count: size, dimension: dimension, low: low, high: high, key: firstKey)
            case .point(let mean, let spread):
                population = .gaussian(count: size, mean: mean, spread: spread, key: firstKey)
            }
            try evaluate(&population)
            run.progress.evaluations = size
            run.consider(population)
            var children = Population(count: ga.childCount(populationSize: size), dimension: dimension)
            var next = Population(count: size, dimension: dimension)
            while run.stopReason == nil {
                if let reason = stop.reason(toStop: run.progress) {
                    run.stopReason = reason
                    break
                }
                let key = StreamKey(seed: seed, island: island, generation: run.progress.generations + 1)
                ga.breed(parents: population, into: &children, key: key)
                try evaluate(&children)
                ga.selectSurvivors(parents: population, children: children, into: &next)
                swap(&population, &next)
                try run.finishGeneration(evaluated: children, current: population, onGeneration: onGeneration)
            }
        case .snes(let size):
            let (mean, spread) = esStart()
            var strategy = SNES(mean: mean, stepSize: spread, populationSize: size)
            try runStrategy(&strategy, run: &run, stop: stop, evaluate: evaluate, onGeneration: onGeneration)
        case .cmaes(let size):
            let (mean, spread) = esStart()
            var strategy = CMAES(mean: mean, stepSize: Double(spread), populationSize: size)
            try runStrategy(&strategy, run: &run, stop: stop, evaluate: evaluate, onGeneration: onGeneration)
        }
        return OptimizationResult(
            bestGenome: run.bestGenome, bestFitness: run.progress.bestFitness, progress: run.progress,
            stopReason: run.stopReason!)
    }

    private func runStrategy<S: EvolutionStrategy>(
        _ strategy: inout S, run: inout OptimizerRunState, stop: StopCriteria,
        evaluate: (inout Population) throws -> Void,
        onGeneration: ((GenerationReport) throws -> GenerationControl)?
    ) throws {
        var population = Population(count: strategy.populationSize, dimension: dimension)
        while run.stopReason == nil {
            if let reason = stop.reason(toStop: run.progress) {
                run.stopReason = reason
                break
            }
            let key = StreamKey(seed: seed, island: island, generation: run.progress.generations + 1)
            strategy.ask(into: &population, key: key)
            try evaluate(&population)
            strategy.tell(population)
            try run.finishGeneration(evaluated: population, current: population, onGeneration: onGeneration)
        }
    }

    /// The first mean and step size of an evolution strategy.
    private func esStart() -> (mean: [Float], spread: Float) {
        switch start {
        case .point(let mean, let spread):
            return (mean, spread)
        case .uniform(let low, let high):
            var random = StreamKey(seed: seed, island: island, generation: 0).stream(.initialization)
            var mean = [Float](repeating: 0, count: dimension)
            mean.withUnsafeMutableBufferPointer { random.fillUniform($0, low: low, high: high) }
            return (mean, (high - low) / 4)
        }
    }
}

/// Bookkeeping of one `Optimizer.run`.
private struct OptimizerRunState {
    let started: UInt64
    var progress = RunProgress()
    var bestGenome: [Float] = []
    var stopReason: StopReason?

    init(started: UInt64) { self.started = started }

    /// Takes the best of `population` as the best so far if it is better.
    mutating func consider(_ population: Population) {
        let best = population.bestIndex
        if bestGenome.isEmpty || population.fitness[best] > progress.bestFitness {
            progress.bestFitness = population.fitness[best]
            bestGenome = Array(population.row(best))
        }
    }

    mutating func finishGeneration(
        evaluated: Population, current: Population, onGeneration: ((GenerationReport) throws -> GenerationControl)?
    ) throws {
        let best = evaluated.bestIndex
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        if evaluated.fitness[best] > progress.bestFitness { bestGenome = Array(evaluated.row(best)) }
        progress.record(evaluated: evaluated.count, generationBest: evaluated.fitness[best], elapsedSeconds: seconds)
        if let onGeneration {
            let report = GenerationReport(
                progress: progress, generationBest: evaluated.fitness[best], generationMean: evaluated.meanFitness,
                population: current)
            if try onGeneration(report) == .stop { stopReason = .callback }
        }
    }
}

/// What `onGeneration` sees after each generation.
public struct GenerationReport: Sendable {
    /// Generations, evaluations, time and best fitness so far.
    public var progress: RunProgress
    /// Best fitness among this generation's evaluations.
    public var generationBest: Float
    /// Mean fitness of this generation's evaluations.
    public var generationMean: Float
    /// The population after the generation (GA: the survivors; ES: the candidates just evaluated).
    public var population: Population
}

/// Whether a run goes on after `onGeneration`.
public enum GenerationControl: Sendable {
    case `continue`, stop
}

/// The outcome of `Optimizer.run`.
public struct OptimizationResult: Codable, Sendable {
    /// The best genome evaluated.
    public var bestGenome: [Float]
    public var bestFitness: Float
    public var progress: RunProgress
    public var stopReason: StopReason
}

public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    case unbounded
    case badStart(String)
    case fitnessCount(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .unbounded:
            return "no stop criterion is set: give at least one of generations, evaluations, time, target or stagnation"
        case .badStart(let detail): return detail
        case .fitnessCount(let expected, let got):
            return "the fitness function returned \(got) values for \(expected) genomes"
        }
    }
}
