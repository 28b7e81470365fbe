import Kernels
import Networks
import Tasks

/// The inputs on which the behavioural loss compares a decoded network with its original.
///
/// For a task with a differentiable loss (a dataset), the probe is a contiguous window of `count`
/// of the loss's own training samples, chosen with the stream `(seed, "behaviour-probe")`, so the
/// same inputs serve the fitness-gap term (whose loss needs the samples' labels). Otherwise the
/// task's `probeInputs(count:seed:)` (states recorded in episodes for control tasks) and no gap
/// term.
public struct BehaviourProbe {
    /// `[N, inputSize]`.
    public let inputs: [Float]
    /// `N`.
    public let count: Int
    /// The task's differentiable loss and the window of its samples that `inputs` holds, if any.
    public let loss: (any DifferentiableLoss)?
    public let samples: Range<Int>

    /// - Throws: `TaskError.invalidOption` when the task has neither probe inputs nor a
    ///   differentiable loss.
    public init(task: any FitnessTask, network: Network, count: Int, seed: UInt64) throws {
        precondition(count >= 1, "a probe needs at least one input")
        if let loss = task.differentiableLoss(for: network), loss.sampleCount > 0 {
            let N = min(count, loss.sampleCount)
            var stream = RandomStream(seed: seed, purpose: "behaviour-probe")
            let start = stream.below(loss.sampleCount - N + 1)
            self.loss = loss
            self.count = N
            samples = start..<start + N
            inputs = Array(loss.inputs[start * loss.inputSize..<(start + N) * loss.inputSize])
        } else if let inputs = task.probeInputs(count: count, seed: seed) {
            self.loss = nil
            self.count = count
            samples = 0..<count
            self.inputs = inputs
        } else {
            throw TaskError.invalidOption(
                "task \(task.name) offers neither probe inputs nor a differentiable loss: the behavioural loss needs one (set w_beh and w_gap to 0)"
            )
        }
    }
}
