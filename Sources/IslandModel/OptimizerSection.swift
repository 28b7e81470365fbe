import Evolution

/// `evolution.optimizer:` the stochastic-gradient optimizer that moves an evolution strategy's
/// mean (`MeanOptimizer`): `{kind: sgd | momentum | adam | clipup, learning_rate, momentum, beta1,
/// beta2, epsilon, max_speed, weight_decay}`.
///
/// Unset keys take the algorithm's default (`EvolutionSection.meanOptimizer`): PGPE and OpenAI-ES
/// run Adam (EvoJAX's PGPE, Salimans et al. 2017); SNES, the anchored latent and EGGROLL keep their
/// plain step unless an optimizer is named.
public struct OptimizerSection: Codable, Equatable, Sendable {
    public var kind: MeanOptimizer.Kind?
    /// `η`; ClipUp's default is `max_speed / 2`.
    public var learningRate: Float?
    /// Momentum's and ClipUp's velocity decay (0.9).
    public var momentum: Float?
    public var beta1: Float?
    public var beta2: Float?
    public var epsilon: Float?
    /// ClipUp's speed limit (`2 η` when unset).
    public var maxSpeed: Float?
    /// L2 on the mean, added to the gradient as `−λ μ`.
    public var weightDecay: Float?

    public init(kind: MeanOptimizer.Kind? = nil, learningRate: Float? = nil, weightDecay: Float? = nil) {
        self.kind = kind
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    enum CodingKeys: String, ConfigKey {
        case kind
        case learningRate = "learning_rate"
        case momentum, beta1, beta2, epsilon
        case maxSpeed = "max_speed"
        case weightDecay = "weight_decay"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(MeanOptimizer.Kind.self, forKey: .kind)
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate)
        momentum = try c.decodeIfPresent(Float.self, forKey: .momentum)
        beta1 = try c.decodeIfPresent(Float.self, forKey: .beta1)
        beta2 = try c.decodeIfPresent(Float.self, forKey: .beta2)
        epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon)
        maxSpeed = try c.decodeIfPresent(Float.self, forKey: .maxSpeed)
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay)
    }

    /// Checks every set value; `path` is the section's key path (`evolution.optimizer`).
    func validate(path: String) throws {
        func fail(_ key: String, _ message: String) -> ConfigError {
            .invalidValue(path: "\(path).\(key)", message: message)
        }
        for (key, value) in [("learning_rate", learningRate), ("epsilon", epsilon), ("max_speed", maxSpeed)] {
            if let value, !(value > 0) { throw fail(key, "expected a value above 0, got \(value)") }
        }
        for (key, value) in [("momentum", momentum), ("beta1", beta1), ("beta2", beta2)] {
            if let value, !(value >= 0 && value < 1) { throw fail(key, "expected a value in [0, 1), got \(value)") }
        }
        if let weightDecay, !(weightDecay >= 0) { throw fail("weight_decay", "expected 0 or more, got \(weightDecay)") }
    }

    /// The optimizer these settings describe over `dimension` genes, the unset keys taken from
    /// `defaults` (an algorithm's own optimizer settings).
    func make(dimension: Int, defaults: OptimizerSection) -> MeanOptimizer {
        let kind = kind ?? defaults.kind ?? .adam
        let maxSpeed = maxSpeed ?? defaults.maxSpeed
        let rate = learningRate ?? (kind == .clipup ? maxSpeed.map { $0 / 2 } : nil) ?? defaults.learningRate ?? 0.01
        return MeanOptimizer(
            kind: kind, dimension: dimension, learningRate: rate, momentum: momentum ?? defaults.momentum ?? 0.9,
            beta1: beta1 ?? defaults.beta1 ?? 0.9, beta2: beta2 ?? defaults.beta2 ?? 0.999,
            epsilon: epsilon ?? defaults.epsilon ?? 1e-8, maxSpeed: maxSpeed,
            weightDecay: weightDecay ?? defaults.weightDecay ?? 0)
    }
}
