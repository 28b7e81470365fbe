import Networks
import Tasks

/// One training example of the meta-learner: a genome and its fitness (higher is better).
///
/// In the anchored latent the genome is a *delta* `g − a` from an anchor `a`: the autoencoder
/// reconstructs the delta, and the behavioural and gap terms score the networks `a + g` and
/// `a + ĝ` (the network the delta stands for).
public struct MetaRecord: Sendable {
    public var genome: [Float]
    public var fitness: Float
    /// The anchor the genome is a delta from (`nil`: the genome is a whole network).
    public var anchor: [Float]?

    public init(genome: [Float], fitness: Float, anchor: [Float]? = nil) {
        precondition(anchor.map { $0.count == genome.count } ?? true, "an anchor has the genome's length")
        self.genome = genome
        self.fitness = fitness
        self.anchor = anchor
    }
}

/// Records of one network architecture with what training on them needs: the network, its
/// tokenizer, the loss with its behavioural probe, and the token mask and positions.
///
/// Minibatches never mix architectures (a batch's genomes share `T`); `MetaTrainer.train` draws
/// the architecture of each step in proportion to its share of the records.
public final class MetaLayoutGroup {
    public let network: Network
    public let tokenizer: Tokenizer
    public let loss: MetaLoss
    /// The genomes, each of `network.parameterCount` values.
    public var records: [MetaRecord]
    private var cachedPositions: [Float] = []
    private var cachedMask: [Float] = []
    private var cachedBatch = 0

    /// - Parameters:
    ///   - network: the architecture.
    ///   - records: its genomes and fitness values.
    ///   - task: the task the genomes were scored on; gives the behavioural probe. `nil` when the
    ///     behavioural and gap weights are 0.
    ///   - config: the meta-learner's sizes (`C`).
    ///   - settings: `probeCount` and `seed` choose the probe.
    /// - Throws: when the task has no probe while one is needed, or a record has the wrong length.
    public init(
        network: Network, records: [MetaRecord], task: (any FitnessTask)?, config: MetaLearnerConfig,
        settings: MetaTrainingSettings
    ) throws {
        for (i, record) in records.enumerated() where record.genome.count != network.parameterCount {
            throw TaskError.invalidOption(
                "record \(i) has \(record.genome.count) values, the network \(network.parameterCount)")
        }
        self.network = network
        self.records = records
        tokenizer = Tokenizer(layout: network.layout, tokenValues: config.tokenValues)
        let needsProbe = settings.wBeh > 0 || settings.wGap > 0
        var probe: BehaviourProbe?
        if needsProbe {
            guard let task else {
                throw TaskError.invalidOption(
                    "the behavioural loss (w_beh, w_gap) needs the task the genomes were scored on")
            }
            probe = try BehaviourProbe(task: task, network: network, count: settings.probeCount, seed: settings.seed)
        }
        loss = MetaLoss(network: network, tokenizer: tokenizer, probe: probe)
    }

    /// `[B, T, F]` positions and `[B, T]` mask, reused while `B` does not change.
    func inputs(batch B: Int) -> (positions: [Float], mask: [Float]) {
        if cachedBatch != B {
            cachedPositions = tokenizer.batchPositions(B)
            cachedMask = tokenizer.batchMask(B)
            cachedBatch = B
        }
        return (cachedPositions, cachedMask)
    }
}
