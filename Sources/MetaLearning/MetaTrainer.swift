import Foundation
import Kernels

/// What one training step measured.
public struct MetaStepResult: Sendable {
    /// The step's number (1 for the first step ever taken by this trainer's model).
    public var step: Int
    /// Raw terms of this rank's minibatch.
    public var terms: MetaLossTerms
    /// `Σ_k w_k · L_k / L_k⁽⁰⁾`.
    public var total: Double
    /// Learning rate used.
    public var learningRate: Float
    /// Global gradient norm after synchronisation, before clipping.
    public var gradientNorm: Float
    /// Genomes in the minibatch and their parameter count.
    public var batch: Int
    public var parameterCount: Int
}

/// Trains an `AttentionAutoencoder` (with its fitness head) on `(genome, fitness)` records.
///
/// One step: tokenise a minibatch of one architecture; `forward`; the fitness head on the latents;
/// `MetaLoss` terms and their gradients scaled by `w_k / L_k⁽⁰⁾` (the first values are measured on
/// the first step, passed through `synchronizeGradients` so every rank uses the same ones, and kept
/// in the state); backward through the head and the autoencoder; `synchronizeGradients` on the
/// flat gradient buffer; global-norm clipping; AdamW (Loshchilov & Hutter 2019) with weight decay on
/// the `decays` tensors only, at the warm-up + cosine rate of the step.
///
/// The state that makes training resumable bit for bit is `parameters`, `m`, `v`, `step` and
/// `normalizers` (see `save`/`load`); minibatches come from streams keyed by
/// `(seed, island, round, "meta-batch")`, so a round gives the same batches wherever it runs.
public final class MetaTrainer {
    public let model: AttentionAutoencoder
    public let settings: MetaTrainingSettings
    /// Steps taken so far.
    public internal(set) var step = 0
    /// First observed value of each loss term (after synchronisation); `nil` before the first step.
    public internal(set) var normalizers: MetaLossTerms?
    /// AdamW's first and second moments, with the layout of `model.parameters`.
    public let m: UnsafeMutableBufferPointer<Float>
    public let v: UnsafeMutableBufferPointer<Float>

    /// Called between backward and clipping with the flat gradient buffer, and once on the first
    /// step with the four first loss values; it must replace the buffer by its mean over all
    /// participants (ranks or islands), identically everywhere. The default does nothing (one
    /// participant). The island model plugs in `ReproducibleAllreduce.sum` followed by `/ size`.
    /// Every participant must take the same number of steps, since each step calls the hook once
    /// (twice on the first step).
    public var synchronizeGradients: (UnsafeMutableBufferPointer<Float>) throws -> Void = { _ in }
    /// Each contribution's gradient within a step (`train(contributions:…)`), allocated once and
    /// grown as needed.
    let contributionGradients = ScratchBuffer<Float>()

    /// A trainer with zero moments for `model`.
    ///
    /// - Throws: `MetaLearnerConfigError` when `settings` are invalid.
    public init(model: AttentionAutoencoder, settings: MetaTrainingSettings) throws {
        try settings.validate()
        self.model = model
        self.settings = settings
        m = .allocate(capacity: model.parameters.count)
        m.initialize(repeating: 0)
        v = .allocate(capacity: model.parameters.count)
        v.initialize(repeating: 0)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One optimisation step on `records` (all of `group`'s architecture).
    ///
    /// - Throws: what `synchronizeGradients` throws (the parameters are then left unchanged).
    @discardableResult
    public func trainStep(_ records: [MetaRecord], group: MetaLayoutGroup) throws -> MetaStepResult {
        try train(contributions: [MetaContribution { _ in (group, records) }], steps: 1, sum: synchronizedSum)[0]
    }

    /// The one-participant sum: the contribution itself, then `synchronizeGradients` (the mean
    /// over ranks, when ranks train together).
    func synchronizedSum(_ contributions: [UnsafeBufferPointer<Float>], _ result: UnsafeMutableBufferPointer<Float>)
        throws
    {
        _ = result.update(fromContentsOf: contributions[0])
        try synchronizeGradients(result)
    }

    // The pieces of a step, for callers that combine several minibatches' gradients themselves
    // (the island model sums one gradient per island exactly): `forward`, `backward`, then the
    // caller's sum into `model.gradients`, then `update`.

    /// `w_k / L_k⁽⁰⁾`: the weight of each raw loss term (needs the normalisers).
    public var scales: MetaLossTerms {
        MetaLossTerms(values: zip(settings.weights.values, normalizers!.values).map { $0 / $1 })
    }

    /// Forward pass on one minibatch of one architecture: zeroes the gradients, runs the
    /// autoencoder and the fitness head, and returns the raw loss terms (`group.loss` keeps what
    /// `backward` needs).
    @discardableResult
    public func forward(_ records: [MetaRecord], group: MetaLayoutGroup) -> MetaLossTerms {
        let B = records.count
        precondition(B > 0, "a minibatch needs at least one record")
        let tokenizer = group.tokenizer
        let n = tokenizer.parameterCount
        let T = tokenizer.tokenCount
        var genomes = [Float]()
        genomes.reserveCapacity(B * n)
        for record in records { genomes += record.genome }
        let tokens = tokenizer.tokenize(genomes, batch: B)
        let (positions, mask) = group.inputs(batch: B)
        let targets = MetaLoss.rankNormalized(records.map(\.fitness))

        model.zeroGradients()
        tokens.withUnsafeBufferPointer { t in
            mask.withUnsafeBufferPointer { k in
                positions.withUnsafeBufferPointer { p in
                    model.forward(
                        tokens: t.baseAddress!, mask: k.baseAddress!, positions: p.baseAddress!, batch: B, tokenCount: T
                    )
                }
            }
        }
        let predictions = Array(model.fitnessHead.forward(latents: model.latents.baseAddress!, batch: B))
        let withProbe = settings.wBeh > 0 || settings.wGap > 0
        var anchors: [Float]? = nil
        if withProbe, records.contains(where: { $0.anchor != nil }) {
            anchors = records.flatMap { $0.anchor ?? [Float](repeating: 0, count: n) }
        }
        return group.loss.forward(
            decoded: model.decoded.baseAddress!, original: tokens, genomes: genomes, anchors: anchors,
            predictions: predictions, targets: targets, batch: B, withProbe: withProbe)
    }

    /// Sets the normalisers `L_k⁽⁰⁾` from the first loss values (a term that starts at 0 — no gap
    /// term for this task — keeps its raw scale).
    public func setNormalizers(_ first: [Float]) {
        normalizers = MetaLossTerms(values: first.map { $0 > 0 ? Double($0) : 1 })
    }

    /// Backward pass of the last `forward` (of `B` genomes of `group`) into `model.gradients`.
    public func backward(group: MetaLayoutGroup, batch B: Int) {
        let T = group.tokenizer.tokenCount
        let C = group.tokenizer.tokenValues
        var dDecoded = [Float](repeating: 0, count: B * T * C)
        var dPredictions = [Float](repeating: 0, count: B)
        group.loss.backward(dDecoded: &dDecoded, dPredictions: &dPredictions, scales: scales)
        var dLatents = [Float](repeating: 0, count: B * model.config.latentSize)
        model.fitnessHead.backward(dLatents: &dLatents, dPredictions: dPredictions)
        model.backward(dDecoded: dDecoded, dLatents: dLatents)
    }

    /// Clips `model.gradients` to the global norm and takes one AdamW step at the scheduled rate.
    ///
    /// - Returns: the gradient norm before clipping and the learning rate used.
    @discardableResult
    public func update() -> (gradientNorm: Float, learningRate: Float) {
        let norm = clipGradientsByGlobalNorm(
            model.gradients.baseAddress!, model.gradients.count, maxNorm: settings.clipNorm)
        let rate = settings.schedule.rate(at: step)
        step += 1
        let adamW = settings.adamW
        for entry in model.parameterTable.entries {
            let o = entry.offset
            adamWUpdate(
                model.parameters.baseAddress! + o, model.gradients.baseAddress! + o, m.baseAddress! + o,
                v.baseAddress! + o, entry.count,
                learningRate: rate, settings: adamW, weightDecay: entry.decays ? adamW.weightDecay : 0, step: step)
        }
        return (norm, rate)
    }

    /// `steps` steps on minibatches drawn from `groups`.
    ///
    /// Each step draws from the stream `RandomStream(seed: settings.seed, island: island,
    /// generation: round, purpose: "meta-batch")`: an architecture with probability proportional to
    /// its number of records, then `min(batchSize, records)` distinct records of it (a partial
    /// Fisher–Yates shuffle).
    ///
    /// - Parameters:
    ///   - groups: the records by architecture; groups without records are skipped.
    ///   - steps: number of steps.
    ///   - round: the training round (a generation of the run, or 0 for pre-training).
    ///   - island: the island (or rank) whose records these are.
    ///   - progress: called after each step.
    /// - Returns: every step's result.
    @discardableResult
    public func train(
        groups: [MetaLayoutGroup], steps: Int, round: Int, island: Int = 0, progress: ((MetaStepResult) -> Void)? = nil
    ) throws -> [MetaStepResult] {
        let total = groups.reduce(0) { $0 + $1.records.count }
        precondition(total > 0, "no records to train on")
        var stream = RandomStream(seed: settings.seed, island: island, generation: round, purpose: "meta-batch")
        let batchSize = settings.batchSize
        let draw = MetaContribution { _ in
            var pick = stream.below(total)
            var groupIndex = 0
            while pick >= groups[groupIndex].records.count {
                pick -= groups[groupIndex].records.count
                groupIndex += 1
            }
            let group = groups[groupIndex]
            var indices = Array(group.records.indices)
            let B = min(batchSize, indices.count)
            for i in 0..<B {
                let j = i + stream.below(indices.count - i)
                indices.swapAt(i, j)
            }
            return (group, indices[0..<B].map { group.records[$0] })
        }
        return try train(contributions: [draw], steps: steps, sum: synchronizedSum, afterStep: { progress?($0) })
    }
}
