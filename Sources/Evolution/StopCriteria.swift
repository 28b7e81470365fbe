/// When a run stops: any combination of limits; the first one met stops the run.
///
/// Limits are checked after each whole generation, so a run may pass `maxEvaluations` by up to one
/// generation's evaluations.
public struct StopCriteria: Codable, Equatable, Sendable {
    /// Stop after this many generations.
    public var maxGenerations: Int?
    /// Stop once this many fitness evaluations have been made.
    public var maxEvaluations: Int?
    /// Stop once this much wall-clock time has passed, in seconds (a run stopped this way is not
    /// reproducible).
    public var maxSeconds: Double?
    /// Stop once the best fitness is at least this.
    public var targetFitness: Float?
    /// Stop after this many generations in a row without a strictly better best fitness.
    public var maxStagnantGenerations: Int?

    public init(
        maxGenerations: Int? = nil, maxEvaluations: Int? = nil, maxSeconds: Double? = nil,
        targetFitness: Float? = nil, maxStagnantGenerations: Int? = nil
    ) {
        self.maxGenerations = maxGenerations
        self.maxEvaluations = maxEvaluations
        self.maxSeconds = maxSeconds
        self.targetFitness = targetFitness
        self.maxStagnantGenerations = maxStagnantGenerations
    }

    /// Whether no limit is set (a run would never stop on its own).
    public var isUnbounded: Bool {
        maxGenerations == nil && maxEvaluations == nil && maxSeconds == nil && targetFitness == nil
            && maxStagnantGenerations == nil
    }

    /// The first limit `progress` meets, checked in the order target, generations, evaluations,
    /// stagnation, time; `nil` to go on.
    public func reason(toStop progress: RunProgress) -> StopReason? {
        if let target = targetFitness, progress.bestFitness >= target { return .targetReached }
        if let limit = maxGenerations, progress.generations >= limit { return .generations }
        if let limit = maxEvaluations, progress.evaluations >= limit { return .evaluations }
        if let limit = maxStagnantGenerations, progress.stagnantGenerations >= limit { return .stagnation }
        if let limit = maxSeconds, progress.elapsedSeconds >= limit { return .wallTime }
        return nil
    }
}

/// Why a run stopped.
public enum StopReason: String, Codable, Sendable {
    case targetReached, generations, evaluations, stagnation, wallTime
    /// The `onGeneration` callback asked to stop.
    case callback
}

/// Where a run stands after a generation.
public struct RunProgress: Codable, Equatable, Sendable {
    /// Generations completed (the first population does not count).
    public var generations: Int
    /// Fitness evaluations made, including the first population's.
    public var evaluations: Int
    public var elapsedSeconds: Double
    /// Best fitness seen so far.
    public var bestFitness: Float
    /// Generations in a row whose best did not beat the best seen before them.
    public var stagnantGenerations: Int

    public init(
        generations: Int = 0, evaluations: Int = 0, elapsedSeconds: Double = 0, bestFitness: Float = -.infinity,
        stagnantGenerations: Int = 0
    ) {
        self.generations = generations
        self.evaluations = evaluations
        self.elapsedSeconds = elapsedSeconds
        self.bestFitness = bestFitness
        self.stagnantGenerations = stagnantGenerations
    }

    /// Records one generation: `evaluated` new evaluations whose best is `generationBest`.
    public mutating func record(evaluated: Int, generationBest: Float, elapsedSeconds: Double) {
        generations += 1
        evaluations += evaluated
        self.elapsedSeconds = elapsedSeconds
        if generationBest > bestFitness {
            bestFitness = generationBest
            stagnantGenerations = 0
        } else {
            stagnantGenerations += 1
        }
    }
}
