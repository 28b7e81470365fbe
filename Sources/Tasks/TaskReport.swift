/// One genome's fitness and the task's metrics, as `atoll evaluate` prints them.
///
/// Encoded as one JSON object: `task`, `fitness_name`, `fitness`, then for datasets one object per
/// split (`"train": {"samples": …, "loss": …, "accuracy": …}`, `"test": {…}`), for control tasks
/// `episodes` (`returns`, `lengths`, `mean_return`).
public struct TaskReport: Encodable, Equatable, Sendable {
    public var task: String
    public var fitnessName: String
    public var fitness: Double
    /// Dataset splits in order (train, then test).
    public var splits: [SplitMetrics]
    /// Episodes of a control task.
    public var episodes: EpisodeMetrics?

    /// Metrics of a network on one split of a dataset.
    public struct SplitMetrics: Equatable, Sendable {
        /// `train` or `test`.
        public var name: String
        public var samples: Int
        /// Mean loss (`lossName`) over the split.
        public var loss: Double
        /// `cross_entropy` or `mse`.
        public var lossName: String
        /// Share of samples whose largest output is the true class (classification only).
        public var accuracy: Double?
        /// Root mean squared error in the target's original units (regression only).
        public var rmse: Double?
    }

    /// Returns and lengths of a control task's episodes for one genome.
    public struct EpisodeMetrics: Encodable, Equatable, Sendable {
        public var returns: [Double]
        public var lengths: [Int]
        public var meanReturn: Double

        enum CodingKeys: String, CodingKey {
            case returns, lengths
            case meanReturn = "mean_return"
        }
    }

    public init(
        task: String, fitnessName: String, fitness: Double, splits: [SplitMetrics] = [], episodes: EpisodeMetrics? = nil
    ) {
        self.task = task
        self.fitnessName = fitnessName
        self.fitness = fitness
        self.splits = splits
        self.episodes = episodes
    }

    /// The split called `name`, if any.
    public func split(_ name: String) -> SplitMetrics? { splits.first { $0.name == name } }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(task, forKey: Key("task"))
        try container.encode(fitnessName, forKey: Key("fitness_name"))
        try container.encode(fitness, forKey: Key("fitness"))
        for split in splits {
            var nested = container.nestedContainer(keyedBy: Key.self, forKey: Key(split.name))
            try nested.encode(split.samples, forKey: Key("samples"))
            try nested.encode(split.loss, forKey: Key("loss"))
            try nested.encode(split.lossName, forKey: Key("loss_name"))
            try nested.encodeIfPresent(split.accuracy, forKey: Key("accuracy"))
            try nested.encodeIfPresent(split.rmse, forKey: Key("rmse"))
        }
        try container.encodeIfPresent(episodes, forKey: Key("episodes"))
    }
}
