import Foundation
import MetaLearning

/// `latent:` the move from weight space to the meta-learner's latent space.
public struct LatentSection: Codable, Equatable, Sendable {
    /// Evolve in latent space once the meta-learner is good enough (`false`: weight space only).
    public var enabled = false
    /// Generations in weight space before the first meta-learner training (ignored with a
    /// pre-trained meta-learner, which starts the latent phase at once if it passes the threshold).
    public var warmupGenerations = 10
    /// Fitness retention of decoded genomes that opens the latent phase, and below which the run
    /// falls back to weight space.
    public var retentionThreshold = 0.95
    /// Share of each generation's children mutated in weight space and re-encoded.
    public var weightSpaceShare = 0.25
    /// Gaussian σ of mutation in latent space.
    public var mutationSigma: Float = 0.1
    /// Share of latent genes mutated.
    public var mutationRate = 0.5
    /// Surrogate pre-screening: breed this many times more children, evaluate only the best by the
    /// fitness head (1: off).
    public var surrogateFactor = 1

    public init() {}

    enum CodingKeys: String, ConfigKey {
        case enabled, warmupGenerations = "warmup_generations", retentionThreshold = "retention_threshold"
        case weightSpaceShare = "weight_space_share", mutationSigma = "mutation_sigma", mutationRate = "mutation_rate", surrogateFactor = "surrogate_factor"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = LatentSection()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
        warmupGenerations = try c.decodeIfPresent(Int.self, forKey: .warmupGenerations) ?? d.warmupGenerations
        retentionThreshold = try c.decodeIfPresent(Double.self, forKey: .retentionThreshold) ?? d.retentionThreshold
        weightSpaceShare = try c.decodeIfPresent(Double.self, forKey: .weightSpaceShare) ?? d.weightSpaceShare
        mutationSigma = try c.decodeIfPresent(Float.self, forKey: .mutationSigma) ?? d.mutationSigma
        mutationRate = try c.decodeIfPresent(Double.self, forKey: .mutationRate) ?? d.mutationRate
        surrogateFactor = try c.decodeIfPresent(Int.self, forKey: .surrogateFactor) ?? d.surrogateFactor
    }

    func validate() throws {
        func fail(_ key: String, _ message: String) -> ConfigError { .invalidValue(path: "latent.\(key)", message: message) }
        guard warmupGenerations >= 0 else { throw fail("warmup_generations", "expected 0 or more, got \(warmupGenerations)") }
        guard retentionThreshold > 0 && retentionThreshold <= 1.5 else { throw fail("retention_threshold", "expected a value in (0, 1.5], got \(retentionThreshold)") }
        guard (0 ... 1).contains(weightSpaceShare) else { throw fail("weight_space_share", "expected a value in [0, 1], got \(weightSpaceShare)") }
        guard mutationSigma >= 0 else { throw fail("mutation_sigma", "expected 0 or more, got \(mutationSigma)") }
        guard (0 ... 1).contains(mutationRate) else { throw fail("mutation_rate", "expected a value in [0, 1], got \(mutationRate)") }
        guard surrogateFactor >= 1 else { throw fail("surrogate_factor", "expected 1 (off) or more, got \(surrogateFactor)") }
    }
}

/// `meta:` the meta-learner: its architecture, its loss, and when and how it trains.
public struct MetaSection: Codable, Equatable, Sendable {
    /// A pre-trained meta-learner (`meta-learner.safetensors` from `atoll pretrain`) to start from.
    public var pretrained: String?
    /// Sizes of the attention autoencoder.
    public var architecture = MetaLearnerConfig()
    /// Loss weights.
    public var loss = LossWeights()
    /// Generations between training rounds.
    public var trainEvery = 5
    /// Minibatch steps per training round.
    public var steps = 20
    /// Genomes per minibatch on each island.
    public var batch = 16
    public var learningRate = 1e-3
    /// Genomes kept per island for training (the newest, evaluated).
    public var archiveSize = 256
    /// Probe inputs for the behavioural loss.
    public var probeCount = 64
    /// Training steps between cross-rank checksums of the parameters.
    public var checksumEvery = 10

    public struct LossWeights: Codable, Equatable, Sendable {
        public var reconstruction = 1.0
        public var behaviour = 1.0
        public var gap = 0.5
        public var head = 0.1

        public init() {}

        enum CodingKeys: String, ConfigKey { case reconstruction, behaviour, gap, head }

        public init(from decoder: Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            reconstruction = try c.decodeIfPresent(Double.self, forKey: .reconstruction) ?? 1
            behaviour = try c.decodeIfPresent(Double.self, forKey: .behaviour) ?? 1
            gap = try c.decodeIfPresent(Double.self, forKey: .gap) ?? 0.5
            head = try c.decodeIfPresent(Double.self, forKey: .head) ?? 0.1
        }
    }

    public init() {}

    enum CodingKeys: String, ConfigKey {
        case pretrained, architecture, loss, trainEvery = "train_every", steps, batch, learningRate = "learning_rate"
        case archiveSize = "archive_size", probeCount = "probe_count", checksumEvery = "checksum_every"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = MetaSection()
        pretrained = try c.decodeIfPresent(String.self, forKey: .pretrained)
        architecture = try c.decodeIfPresent(MetaLearnerConfig.self, forKey: .architecture) ?? d.architecture
        loss = try c.decodeIfPresent(LossWeights.self, forKey: .loss) ?? d.loss
        trainEvery = try c.decodeIfPresent(Int.self, forKey: .trainEvery) ?? d.trainEvery
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? d.steps
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? d.batch
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
        archiveSize = try c.decodeIfPresent(Int.self, forKey: .archiveSize) ?? d.archiveSize
        probeCount = try c.decodeIfPresent(Int.self, forKey: .probeCount) ?? d.probeCount
        checksumEvery = try c.decodeIfPresent(Int.self, forKey: .checksumEvery) ?? d.checksumEvery
    }

    func validate() throws {
        func fail(_ key: String, _ message: String) -> ConfigError { .invalidValue(path: "meta.\(key)", message: message) }
        for (key, value) in [("train_every", trainEvery), ("steps", steps), ("batch", batch), ("archive_size", archiveSize), ("probe_count", probeCount), ("checksum_every", checksumEvery)] where value < 1 {
            throw fail(key, "expected at least 1, got \(value)")
        }
        guard learningRate > 0 else { throw fail("learning_rate", "expected more than 0, got \(learningRate)") }
        for (key, w) in [("reconstruction", loss.reconstruction), ("behaviour", loss.behaviour), ("gap", loss.gap), ("head", loss.head)] where w < 0 {
            throw fail("loss.\(key)", "expected 0 or more, got \(w)")
        }
        if let pretrained {
            let paths = MetaLearnerPaths(pretrained)
            guard FileManager.default.fileExists(atPath: paths.tensors) else { throw fail("pretrained", "no file at \(paths.tensors)") }
            guard FileManager.default.fileExists(atPath: paths.state) else {
                throw fail("pretrained", "\(paths.tensors) is not a meta-learner: its companion \(paths.state) is missing "
                    + "(`atoll pretrain` writes FILE.safetensors with FILE.json beside it; a network's weights cannot be used here)")
            }
        }
    }
}
