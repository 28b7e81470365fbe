/// Settings shared by the tasks `TaskCatalog` builds; every field has a default.
public struct TaskOptions: Codable, Equatable, Sendable {
    /// Dataset fitness: `neg_cross_entropy` (classification default), `accuracy`, `neg_mse`
    /// (regression default). `nil` picks the default.
    public var fitness: DatasetTask.Fitness?
    /// Share of each class held out as the test split.
    public var testFraction: Double = 0.2
    /// Seed of the train/test split (independent of the run's seed, so the test set is stable).
    public var splitSeed: UInt64 = 0
    /// Path of the digits file or its folder, or the folder of the Fashion-MNIST files; `nil`
    /// searches (digits, see `DataDirectory`) or reads the Debian package's folder (Fashion-MNIST).
    public var data: String?
    /// Dataset tasks: training samples per generation (minibatch fitness); `nil` uses them all.
    public var batch: Int?
    /// Every this many generations the run scores its best genome on the whole training and test
    /// splits and logs it in `metrics.jsonl`; `nil` does so only at the end.
    public var evalEvery: Int?
    /// CSV target column (name or 1-based number); `nil` means the last column.
    public var target: String?
    /// CSV target kind.
    public var kind: CSVDataset.Kind = .classification
    /// Episodes per genome per evaluation for control tasks.
    public var episodes: Int = 1
    /// Seconds per batch for external evaluators.
    public var timeout: Double = 60

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case fitness
        case testFraction = "test_fraction"
        case splitSeed = "split_seed"
        case data, target, kind, episodes, timeout, batch
        case evalEvery = "eval_every"
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes the fields present, keeping the defaults of the others; an unknown key is an error
    /// that names it.
    public init(from decoder: Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        for key in all.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: all,
                debugDescription:
                    "unknown task option '\(key.stringValue)'; expected \(known.sorted().joined(separator: ", "))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fitness = try c.decodeIfPresent(DatasetTask.Fitness.self, forKey: .fitness)
        testFraction = try c.decodeIfPresent(Double.self, forKey: .testFraction) ?? testFraction
        splitSeed = try c.decodeIfPresent(UInt64.self, forKey: .splitSeed) ?? splitSeed
        data = try c.decodeIfPresent(String.self, forKey: .data)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        kind = try c.decodeIfPresent(CSVDataset.Kind.self, forKey: .kind) ?? kind
        episodes = try c.decodeIfPresent(Int.self, forKey: .episodes) ?? episodes
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? timeout
        batch = try c.decodeIfPresent(Int.self, forKey: .batch)
        evalEvery = try c.decodeIfPresent(Int.self, forKey: .evalEvery)
    }
}

/// Builds a task from its name.
///
/// Names: `digits`; `fashion-mnist`; `idx:DIR` (an MNIST-format folder); `csv:PATH`; a Gymnasium id (`CartPole-v1`, `Acrobot-v1`,
/// `MountainCarContinuous-v0`, `Pendulum-v1`); `external:PROGRAM ARGS…` (split on spaces).
public enum TaskCatalog {
    /// One built-in task for `atoll tasks`.
    public struct Entry: Sendable {
        public var name: String
        public var inputSize: Int?
        public var outputSize: Int?
        public var fitness: String
        public var summary: String
    }

    /// The built-in tasks with their sizes (the CSV and external tasks' sizes depend on the data).
    public static let builtins: [Entry] =
        [
            Entry(
                name: "digits", inputSize: 64, outputSize: 10, fitness: "neg_cross_entropy | accuracy",
                summary: "UCI handwritten digits (8×8, 1,797 images), pixels/16, stratified 80/20 split"),
            Entry(
                name: "fashion-mnist", inputSize: 784, outputSize: 10, fitness: "neg_cross_entropy | accuracy",
                summary: "Fashion-MNIST (28×28, published 60,000/10,000 split), pixels/255; input [784] or [1, 28, 28]"),
        ]
        + ClassicControl.environments.map { env in
            Entry(
                name: env.id, inputSize: env.observationSize, outputSize: env.actionSpace.outputSize,
                fitness: "mean_return",
                summary: {
                    switch env.actionSpace {
                    case .discrete(let k): "Gymnasium dynamics, \(k) actions (argmax), \(env.maxEpisodeSteps) steps max"
                    case .continuous(let low, let high):
                        "Gymnasium dynamics, action clipped to [\(low), \(high)], \(env.maxEpisodeSteps) steps max"
                    }
                }())
        } + [
            Entry(
                name: "idx:DIR", inputSize: nil, outputSize: nil, fitness: "neg_cross_entropy | accuracy",
                summary: "a folder of the four MNIST IDX files (train-/t10k- images/labels, .gz or plain), pixels/255"),
            Entry(
                name: "csv:PATH", inputSize: nil, outputSize: nil, fitness: "neg_cross_entropy | accuracy | neg_mse",
                summary:
                    "any CSV with a header; --target column, --kind classification|regression; features standardised"),
            Entry(
                name: "external:COMMAND", inputSize: nil, outputSize: nil, fitness: "the program's",
                summary: "a program scoring genomes over stdin/stdout (docs/external-protocol.md)"),
        ]

    /// The task called `name`.
    ///
    /// - Throws: `TaskError.unknownTask`, `TaskError.invalidOption`, or the dataset's errors.
    public static func make(_ name: String, options: TaskOptions = TaskOptions()) throws -> any FitnessTask {
        guard options.episodes >= 1 else {
            throw TaskError.invalidOption("episodes must be at least 1, got \(options.episodes)")
        }
        guard options.testFraction >= 0 && options.testFraction < 1 else {
            throw TaskError.invalidOption("test fraction must be in [0, 1), got \(options.testFraction)")
        }
        if let every = options.evalEvery, every < 1 {
            throw TaskError.invalidOption("eval_every must be at least 1, got \(every)")
        }
        if name == "digits" {
            return try DatasetTask.digits(
                fitness: options.fitness ?? .negCrossEntropy, testFraction: options.testFraction,
                splitSeed: options.splitSeed,
                data: options.data, batch: options.batch)
        }
        if name == "fashion-mnist" {
            return try DatasetTask.fashionMNIST(
                fitness: options.fitness ?? .negCrossEntropy, folder: options.data, batch: options.batch)
        }
        if name.hasPrefix("idx:") {
            let folder = String(name.dropFirst(4))
            guard !folder.isEmpty else { throw TaskError.invalidOption("idx task needs a folder: idx:DIR") }
            return try DatasetTask.idx(
                folder: folder, fitness: options.fitness ?? .negCrossEntropy, batch: options.batch)
        }
        if name.hasPrefix("csv:") {
            return try DatasetTask.csv(
                path: String(name.dropFirst(4)), target: options.target, kind: options.kind, fitness: options.fitness,
                testFraction: options.testFraction, splitSeed: options.splitSeed, batch: options.batch)
        }
        if options.batch != nil {
            throw TaskError.invalidOption("batch applies to dataset tasks (digits, fashion-mnist, idx:, csv:) only")
        }
        if name.hasPrefix("external:") {
            let command = name.dropFirst("external:".count).split(separator: " ").map(String.init)
            guard !command.isEmpty else {
                throw TaskError.invalidOption("external task needs a command: external:PROGRAM ARGS")
            }
            guard options.timeout > 0 else {
                throw TaskError.invalidOption("timeout must be positive, got \(options.timeout)")
            }
            guard options.timeout <= ExternalTask.maxTimeout else {
                throw TaskError.invalidOption(
                    "timeout must be at most \(Int(ExternalTask.maxTimeout)) seconds (about 11.6 days), got \(options.timeout)"
                )
            }
            return ExternalTask(command: command, timeout: options.timeout)
        }
        if let env = ClassicControl.environment(named: name) {
            return ControlTask(environment: env, episodes: options.episodes)
        }
        throw TaskError.unknownTask(name, known: builtins.map(\.name))
    }
}
