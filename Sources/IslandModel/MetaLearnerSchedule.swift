/// When the meta-learner trains (both designs): after a warm-up in weight space, every
/// `meta.train_every` generations; and, in the absolute latent, what a round leads to: the move
/// into latent space once decoded networks keep enough fitness, re-encoding while they do, and
/// the fall-back to weight space when they no longer do.
struct MetaLearnerSchedule: Equatable, Sendable {
    /// Generations between training rounds (`meta.train_every`).
    let trainEvery: Int
    /// Generations in weight space before the first round (0 with a pre-trained meta-learner).
    let warmup: Int
    /// Retention that opens the latent phase, and below which the run falls back.
    let threshold: Double

    /// What a training round leads to.
    enum Decision: Equatable {
        /// Enter latent space, or stay there with the population re-encoded.
        case encode
        /// Leave latent space for weight space.
        case fallBack
        /// Stay in weight space.
        case stay
    }

    init(config: RunConfig) {
        trainEvery = config.meta.trainEvery
        warmup = config.meta.pretrained == nil ? config.latent.warmupGenerations : 0
        threshold = config.latent.retentionThreshold
    }

    /// Whether the meta-learner trains after `generation`: every `trainEvery` generations once the
    /// warm-up is over (in latent space, always on that beat).
    func isTrainingRound(generation: Int, phase: SearchPhase) -> Bool {
        guard generation % trainEvery == 0 else { return false }
        return phase == .latent || generation >= warmup
    }

    /// The phase change after a round that measured `retention`.
    func decision(retention: Double, phase: SearchPhase) -> Decision {
        if retention >= threshold { return .encode }
        return phase == .latent ? .fallBack : .stay
    }
}
