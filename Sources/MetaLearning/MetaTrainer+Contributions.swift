import Kernels

/// One participant of a training step: where its minibatch of each step comes from (an island
/// of a run, or the single stream of pre-training).
public struct MetaContribution {
    /// The architecture and records of step `s` of the round.
    public let minibatch: (_ step: Int) -> (group: MetaLayoutGroup, records: [MetaRecord])

    public init(minibatch: @escaping (_ step: Int) -> (group: MetaLayoutGroup, records: [MetaRecord])) {
        self.minibatch = minibatch
    }
}

extension MetaTrainer {
    /// The one training driver: `steps` steps in which every contribution back-propagates its own
    /// minibatch; `sum` turns the contributions' gradients into the step's gradient in
    /// `model.gradients` (the island model: the exact sum over every island of every rank, divided
    /// by the island count; one participant: itself, averaged over ranks by `synchronizeGradients`);
    /// then clipping and one AdamW step.
    ///
    /// Before the first step ever, the loss normalisers `L_k⁽⁰⁾` are the first minibatches' raw
    /// terms, combined by the same `sum` (so every participant everywhere uses the same ones).
    /// The contributions' gradient buffers are the trainer's, allocated once.
    ///
    /// - Parameters:
    ///   - onContribution: each contribution's index and raw loss terms, every step.
    ///   - afterStep: called after each step (a checksum across ranks, progress).
    /// - Returns: each step's result (its terms: the mean over this rank's contributions).
    @discardableResult
    public func train(
        contributions: [MetaContribution], steps: Int,
        sum: (_ contributions: [UnsafeBufferPointer<Float>], _ result: UnsafeMutableBufferPointer<Float>) throws ->
            Void,
        onContribution: (Int, MetaLossTerms) -> Void = { _, _ in },
        afterStep: (MetaStepResult) throws -> Void = { _ in }
    ) throws -> [MetaStepResult] {
        precondition(!contributions.isEmpty, "a training step needs at least one contribution")
        let P = model.parameters.count
        let n = contributions.count
        contributionGradients.reserve(n * P)
        let buffers = (0..<n).map {
            UnsafeMutableBufferPointer(start: contributionGradients.pointer + $0 * P, count: P)
        }
        var results: [MetaStepResult] = []
        for s in 0..<steps {
            let batches = contributions.map { $0.minibatch(s) }
            if normalizers == nil {
                var first = [Float](repeating: 0, count: 4 * n)
                for (k, batch) in batches.enumerated() {
                    let terms = forward(batch.records, group: batch.group).values
                    for t in 0..<4 { first[4 * k + t] = Float(terms[t]) }
                }
                var mean = [Float](repeating: 0, count: 4)
                try first.withUnsafeBufferPointer { all in
                    try mean.withUnsafeMutableBufferPointer { out in
                        try sum((0..<n).map { UnsafeBufferPointer(rebasing: all[4 * $0..<4 * $0 + 4]) }, out)
                    }
                }
                setNormalizers(mean)
            }
            var stepTerms = MetaLossTerms()
            for (k, batch) in batches.enumerated() {
                let terms = forward(batch.records, group: batch.group)
                backward(group: batch.group, batch: batch.records.count)
                _ = buffers[k].update(fromContentsOf: model.gradients)
                onContribution(k, terms)
                stepTerms = MetaLossTerms(
                    reconstruction: stepTerms.reconstruction + terms.reconstruction / Double(n),
                    behaviour: stepTerms.behaviour + terms.behaviour / Double(n),
                    gap: stepTerms.gap + terms.gap / Double(n), head: stepTerms.head + terms.head / Double(n))
            }
            try sum(buffers.map { UnsafeBufferPointer($0) }, model.gradients)
            let (norm, rate) = update()
            let result = MetaStepResult(
                step: step, terms: stepTerms, total: scales.dot(stepTerms), learningRate: rate, gradientNorm: norm,
                batch: batches[n - 1].records.count, parameterCount: batches[n - 1].group.tokenizer.parameterCount)
            results.append(result)
            try afterStep(result)
        }
        return results
    }
}
