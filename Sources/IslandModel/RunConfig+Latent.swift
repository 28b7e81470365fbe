import Evolution
import Foundation
import MetaLearning

/// `latent:` the latent space the islands search.
///
/// Two designs: `absolute` (a latent is a whole network, decoded by the attention meta-learner,
/// entered from weight space after a warm-up once decoded networks keep enough fitness), and
/// `anchored` (a latent is a change to the island's anchor, its SNES mean, along a basis of the
/// directions the island moved in: `SubspaceSNES`; with `anchored.decoder_share` above 0 the
/// meta-learner also decodes residual corrections, trained on archive deltas `g − anchor`).
public struct LatentSection: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        case absolute, anchored
    }

    /// Evolve in a latent space (`false`: weight space only).
    public var enabled = false
    /// `absolute` or `anchored`.
    public var mode = Mode.absolute
    /// Settings of the anchored latent space.
    public var anchored = AnchoredSettings()
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

    /// Whether the attention meta-learner trains and decodes whole networks (the absolute latent space).
    public var usesMetaLearner: Bool { enabled && mode == .absolute }
    /// Whether the attention meta-learner decodes residual corrections in the anchored latent space.
    public var usesResidualDecoder: Bool { enabled && mode == .anchored && anchored.decoderShare > 0 }
    /// Whether the meta-learner's attention chooses the neurons of focused candidates in the anchored latent space.
    public var usesAttentionFocus: Bool { enabled && mode == .anchored && anchored.focusShare > 0 }
    /// Whether the run trains a meta-learner (either design), with an archive on every island.
    public var trainsMetaLearner: Bool { usesMetaLearner || usesResidualDecoder || usesAttentionFocus }

    /// `latent.anchored:` `genome = anchor + σ ⊙ s + Uᵀ(τ ⊙ z)`, see `SubspaceSNES`.
    public struct AnchoredSettings: Codable, Equatable, Sendable {
        /// `k`, latent coordinates (the basis is first built after `k` generations).
        public var dimension = 16
        /// `R`, generations between rebuilds of the basis `U` (re-anchoring).
        public var rebuildEvery = 1
        /// Share of each generation's candidates drawn in full weight space around the anchor.
        public var fullShare = 0.0
        /// Share drawn along `U` only.
        public var latentShare = 0.0
        /// Share of guided candidates that also add a residual `D(ρ ⊙ w) − D(0)` decoded by the
        /// attention meta-learner (`meta:` sets its sizes and training; 0: no decoder). The rows are
        /// the last of the generation; they start once the first training round is over
        /// (`latent.warmup_generations`, then every `meta.train_every` generations).
        public var decoderShare = 0.0
        /// Share of guided candidates whose full-space step mutates only `focus_neurons` of the
        /// neurons, drawn in proportion to the meta-learner encoder's attention (0: no focus; the
        /// rows come just before the decoder's, from the first training round on).
        public var focusShare = 0.0
        /// Share of the network's neurons a focused candidate mutates (at least one).
        public var focusNeurons = 0.25
        /// `τ₀`, the first step size of each latent coordinate (default: 10 × `evolution.sigma0`: a
        /// direction the mean keeps moving in carries far more than one weight's step; chosen on
        /// digits-mlp seeds 1–5 among 2.5, 5 and 10 × σ₀, see README).
        public var sigma0: Float?

        public init() {}

        enum CodingKeys: String, ConfigKey {
            case dimension
            case rebuildEvery = "rebuild_every"
            case fullShare = "full_share"
            case latentShare = "latent_share"
            case sigma0
            case decoderShare = "decoder_share"
            case focusShare = "focus_share"
            case focusNeurons = "focus_neurons"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            let d = AnchoredSettings()
            dimension = try c.decodeIfPresent(Int.self, forKey: .dimension) ?? d.dimension
            rebuildEvery = try c.decodeIfPresent(Int.self, forKey: .rebuildEvery) ?? d.rebuildEvery
            fullShare = try c.decodeIfPresent(Double.self, forKey: .fullShare) ?? d.fullShare
            latentShare = try c.decodeIfPresent(Double.self, forKey: .latentShare) ?? d.latentShare
            sigma0 = try c.decodeIfPresent(Float.self, forKey: .sigma0)
            decoderShare = try c.decodeIfPresent(Double.self, forKey: .decoderShare) ?? d.decoderShare
            focusShare = try c.decodeIfPresent(Double.self, forKey: .focusShare) ?? d.focusShare
            focusNeurons = try c.decodeIfPresent(Double.self, forKey: .focusNeurons) ?? d.focusNeurons
        }

        func validate(generations: Int?) throws {
            func fail(_ key: String, _ message: String) -> ConfigError {
                .invalidValue(path: "latent.anchored.\(key)", message: message)
            }
            guard dimension >= 1 else { throw fail("dimension", "expected at least 1, got \(dimension)") }
            if let generations, dimension >= generations {
                throw fail(
                    "dimension",
                    "the basis needs \(dimension) generations of history, but the run stops after \(generations): expected fewer than \(generations)"
                )
            }
            guard rebuildEvery >= 1 else { throw fail("rebuild_every", "expected at least 1, got \(rebuildEvery)") }
            guard (0...1).contains(fullShare) else {
                throw fail("full_share", "expected a value in [0, 1], got \(fullShare)")
            }
            guard (0...1).contains(latentShare) else {
                throw fail("latent_share", "expected a value in [0, 1], got \(latentShare)")
            }
            guard fullShare + latentShare <= 1 else {
                throw fail(
                    "latent_share", "full_share + latent_share must be at most 1, got \(fullShare + latentShare)")
            }
            guard (0...1).contains(decoderShare) else {
                throw fail("decoder_share", "expected a value in [0, 1], got \(decoderShare)")
            }
            guard (0...1).contains(focusShare) else {
                throw fail("focus_share", "expected a value in [0, 1], got \(focusShare)")
            }
            guard focusNeurons > 0 && focusNeurons <= 1 else {
                throw fail("focus_neurons", "expected a share of the neurons in (0, 1], got \(focusNeurons)")
            }
            let shares = fullShare + latentShare + decoderShare + focusShare
            guard shares <= 1 else {
                throw fail(
                    focusShare > 0 ? "focus_share" : "decoder_share",
                    "full_share + latent_share + decoder_share + focus_share must be at most 1 (decoded and focused rows are guided rows), got \(shares)"
                )
            }
            if let sigma0, !(sigma0 > 0 && sigma0.isFinite) {
                throw fail("sigma0", "expected a finite value above 0, got \(sigma0)")
            }
        }
    }

    enum CodingKeys: String, ConfigKey {
        case enabled, mode, anchored
        case warmupGenerations = "warmup_generations"
        case retentionThreshold = "retention_threshold"
        case weightSpaceShare = "weight_space_share"
        case mutationSigma = "mutation_sigma"
        case mutationRate = "mutation_rate"
        case surrogateFactor = "surrogate_factor"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = LatentSection()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? d.mode
        anchored = try c.decodeIfPresent(AnchoredSettings.self, forKey: .anchored) ?? d.anchored
        warmupGenerations = try c.decodeIfPresent(Int.self, forKey: .warmupGenerations) ?? d.warmupGenerations
        retentionThreshold = try c.decodeIfPresent(Double.self, forKey: .retentionThreshold) ?? d.retentionThreshold
        weightSpaceShare = try c.decodeIfPresent(Double.self, forKey: .weightSpaceShare) ?? d.weightSpaceShare
        mutationSigma = try c.decodeIfPresent(Float.self, forKey: .mutationSigma) ?? d.mutationSigma
        mutationRate = try c.decodeIfPresent(Double.self, forKey: .mutationRate) ?? d.mutationRate
        surrogateFactor = try c.decodeIfPresent(Int.self, forKey: .surrogateFactor) ?? d.surrogateFactor
    }

    func validate(algorithm: EvolutionSection.Algorithm, generations: Int?) throws {
        func fail(_ key: String, _ message: String) -> ConfigError {
            .invalidValue(path: "latent.\(key)", message: message)
        }
        if enabled {
            switch mode {
            case .absolute where algorithm != .ga:
                throw fail(
                    "mode",
                    "the absolute latent space runs the GA on latents: set evolution.algorithm to ga, or latent.mode to anchored (got evolution.algorithm \(algorithm.rawValue))"
                )
            case .anchored where algorithm != .snes:
                throw fail(
                    "mode",
                    "the anchored latent space's anchor is the SNES mean: set evolution.algorithm to snes (got \(algorithm.rawValue))"
                )
            case .anchored: try anchored.validate(generations: generations)
            default: break
            }
        }
        guard warmupGenerations >= 0 else {
            throw fail("warmup_generations", "expected 0 or more, got \(warmupGenerations)")
        }
        guard retentionThreshold > 0 && retentionThreshold <= 1.5 else {
            throw fail("retention_threshold", "expected a value in (0, 1.5], got \(retentionThreshold)")
        }
        guard (0...1).contains(weightSpaceShare) else {
            throw fail("weight_space_share", "expected a value in [0, 1], got \(weightSpaceShare)")
        }
        guard mutationSigma >= 0 else { throw fail("mutation_sigma", "expected 0 or more, got \(mutationSigma)") }
        guard (0...1).contains(mutationRate) else {
            throw fail("mutation_rate", "expected a value in [0, 1], got \(mutationRate)")
        }
        guard surrogateFactor >= 1 else {
            throw fail("surrogate_factor", "expected 1 (off) or more, got \(surrogateFactor)")
        }
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
        case pretrained, architecture, loss
        case trainEvery = "train_every"
        case steps, batch
        case learningRate = "learning_rate"
        case archiveSize = "archive_size"
        case probeCount = "probe_count"
        case checksumEvery = "checksum_every"
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
        func fail(_ key: String, _ message: String) -> ConfigError {
            .invalidValue(path: "meta.\(key)", message: message)
        }
        for (key, value) in [
            ("train_every", trainEvery), ("steps", steps), ("batch", batch), ("archive_size", archiveSize),
            ("probe_count", probeCount), ("checksum_every", checksumEvery),
        ] where value < 1 {
            throw fail(key, "expected at least 1, got \(value)")
        }
        guard learningRate > 0 else { throw fail("learning_rate", "expected more than 0, got \(learningRate)") }
        for (key, w) in [
            ("reconstruction", loss.reconstruction), ("behaviour", loss.behaviour), ("gap", loss.gap),
            ("head", loss.head),
        ] where w < 0 {
            throw fail("loss.\(key)", "expected 0 or more, got \(w)")
        }
        if let pretrained {
            let paths = MetaLearnerPaths(pretrained)
            guard FileManager.default.fileExists(atPath: paths.tensors) else {
                throw fail("pretrained", "no file at \(paths.tensors)")
            }
            guard FileManager.default.fileExists(atPath: paths.state) else {
                throw fail(
                    "pretrained",
                    "\(paths.tensors) is not a meta-learner: its companion \(paths.state) is missing "
                        + "(`atoll pretrain` writes FILE.safetensors with FILE.json beside it; a network's weights cannot be used here)"
                )
            }
        }
    }
}
