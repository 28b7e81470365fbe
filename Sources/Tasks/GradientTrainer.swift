import Kernels
import Networks

/// Trains one genome of a network by minibatch gradient descent with Adam on a dataset's loss.
///
/// Each step takes the next minibatch of `B` samples, runs `Network.forwardRecording`, the
/// dataset's `SupervisedLoss` (mean cross-entropy, or mean squared error for regression) and its
/// gradient with respect to the outputs, then `Network.backward` for `∂loss/∂genome`, and updates
/// the genome with Adam (Kingma & Ba 2015, "Adam: a method for stochastic optimization"):
///
///     m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,   θ ← θ − η · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
///
/// (`adamWUpdate` with weight decay 0 unless the settings ask for it, as `torch.optim.AdamW`).
/// Minibatches are drawn without replacement: every epoch starts with a fresh permutation of the
/// training samples from the `batches` stream, and the epoch's last batch holds the remainder.
/// The permutation needs the targets, which `DifferentiableLoss` hides, so the trainer takes the
/// `Dataset` and builds the permuted `SupervisedLoss` itself, reading classifier outputs as
/// `ClassifierOutput(spec:)` does for `DatasetTask`.
///
/// The same genome, settings and stream give the same trained genome. The trainer owns its
/// network's scratch buffers while it runs: one trainer per thread.
public final class GradientTrainer {
    /// Optimiser settings. The defaults suit small MLPs on digits: 64-32-10 networks reach
    /// 97–98% test accuracy (100% train) in 2,000 steps, 40 seeds measured with `atoll zoo`.
    public struct Settings: Equatable, Sendable {
        /// Adam's step size `η`.
        public var learningRate: Float
        /// Samples per minibatch `B` (at most the training set).
        public var batchSize: Int
        /// `β₁`, `β₂`, `ε` and the decoupled weight decay (0: plain Adam).
        public var adam: AdamWSettings

        public init(
            learningRate: Float = 1e-2, batchSize: Int = 64, adam: AdamWSettings = AdamWSettings(weightDecay: 0)
        ) {
            self.learningRate = learningRate
            self.batchSize = batchSize
            self.adam = adam
        }
    }

    public let network: Network
    public let dataset: Dataset
    public let settings: Settings
    /// The genome being trained, `(parameterCount)`.
    public private(set) var genome: [Float]
    /// Adam steps taken so far, `t`.
    public private(set) var stepsTaken = 0

    private let output: ClassifierOutput
    private var batches: RandomStream
    /// `∂loss/∂genome` of the last minibatch, and Adam's first and second moments.
    private(set) var gradient: [Float]
    private var firstMoment: [Float]
    private var secondMoment: [Float]
    /// The current epoch's samples in permuted order, and the next sample to use.
    private var epochLoss: SupervisedLoss?
    private var cursor = 0
    private var outputs: [Float] = []
    private var outputGradient: [Float] = []

    /// - Parameters:
    ///   - genome: the starting parameters, `(network.parameterCount)`.
    ///   - batches: the stream the epochs' permutations are drawn from.
    /// - Throws: `TaskError.invalidOption` if the genome, the network and the dataset do not fit
    ///   together or the settings are out of range.
    public init(
        network: Network, dataset: Dataset, genome: [Float], settings: Settings = Settings(), batches: RandomStream
    ) throws {
        guard genome.count == network.parameterCount else {
            throw TaskError.invalidOption(
                "the genome has \(genome.count) values, the network needs \(network.parameterCount)")
        }
        guard network.inputSize == dataset.featureCount else {
            throw TaskError.incompatibleNetwork(
                task: "training data", what: "input", expected: dataset.featureCount, found: network.inputSize)
        }
        let outputSize = dataset.classCount ?? 1
        guard network.outputSize == outputSize else {
            throw TaskError.incompatibleNetwork(
                task: "training data", what: "output", expected: outputSize, found: network.outputSize)
        }
        guard dataset.sampleCount > 0 else { throw TaskError.invalidOption("the training data has no samples") }
        guard settings.batchSize >= 1 else {
            throw TaskError.invalidOption("batch size must be at least 1, got \(settings.batchSize)")
        }
        guard settings.learningRate > 0 && settings.learningRate.isFinite else {
            throw TaskError.invalidOption("learning rate must be positive, got \(settings.learningRate)")
        }
        self.network = network
        self.dataset = dataset
        self.settings = settings
        self.genome = genome
        self.batches = batches
        output = ClassifierOutput(spec: network.spec)
        gradient = [Float](repeating: 0, count: genome.count)
        firstMoment = gradient
        secondMoment = gradient
    }

    /// A trainer on the training split of `task`.
    public convenience init(
        network: Network, task: DatasetTask, genome: [Float], settings: Settings = Settings(), batches: RandomStream
    ) throws {
        try task.checkCompatible(network)
        try self.init(network: network, dataset: task.train, genome: genome, settings: settings, batches: batches)
    }

    /// One Adam step on the next minibatch.
    ///
    /// - Returns: the minibatch's mean loss before the update.
    @discardableResult
    public func step() -> Float {
        let loss = nextBatchGradient()
        stepsTaken += 1
        genome.withUnsafeMutableBufferPointer { theta in
            gradient.withUnsafeBufferPointer { g in
                firstMoment.withUnsafeMutableBufferPointer { m in
                    secondMoment.withUnsafeMutableBufferPointer { v in
                        adamWUpdate(
                            theta.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, theta.count,
                            learningRate: settings.learningRate, settings: settings.adam,
                            weightDecay: settings.adam.weightDecay, step: stepsTaken)
                    }
                }
            }
        }
        return loss
    }

    /// Takes `steps` more steps.
    ///
    /// `onCheckpoint(stepsTaken)` is called whenever `stepsTaken` is in `checkpoints`: first for
    /// the current count (so a checkpoint at 0 sees the starting genome), then after each step.
    /// Read `genome` inside it for the parameters at that point.
    public func train(steps: Int, checkpoints: Set<Int> = [], onCheckpoint: (Int) throws -> Void = { _ in }) rethrows {
        if checkpoints.contains(stepsTaken) { try onCheckpoint(stepsTaken) }
        for _ in 0..<steps {
            step()
            if checkpoints.contains(stepsTaken) { try onCheckpoint(stepsTaken) }
        }
    }

    /// Sets `gradient` to `∂loss/∂genome` on the next minibatch (starting a new epoch when the
    /// current one is used up) and returns the minibatch's mean loss.
    func nextBatchGradient() -> Float {
        let N = dataset.sampleCount
        if epochLoss == nil || cursor >= N {
            var order = Array(0..<N)
            batches.shuffle(&order)
            epochLoss = SupervisedLoss(dataset: dataset.subset(order), output: output)
            cursor = 0
        }
        let samples = cursor..<min(cursor + settings.batchSize, N)
        cursor = samples.upperBound
        return computeGradient(loss: epochLoss!, samples: samples)
    }

    /// Sets `gradient` to `∂loss/∂genome` of the mean loss over `samples` of `loss`; returns that loss.
    ///
    /// inputs is (B, inputSize), outputs and outputGradient are (B, outputSize).
    func computeGradient(loss: SupervisedLoss, samples: Range<Int>) -> Float {
        let B = samples.count
        let inputSize = loss.inputSize
        let outputSize = network.outputSize
        if outputs.count < B * outputSize {
            outputs = [Float](repeating: 0, count: B * outputSize)
            outputGradient = outputs
        }
        var meanLoss: Float = 0
        let dLoss: [Float] = [1]
        genome.withUnsafeBufferPointer { theta in
            loss.inputs.withUnsafeBufferPointer { x in
                outputs.withUnsafeMutableBufferPointer { out in
                    outputGradient.withUnsafeMutableBufferPointer { dout in
                        gradient.withUnsafeMutableBufferPointer { dtheta in
                            let inputs = UnsafeBufferPointer(
                                rebasing: x[samples.lowerBound * inputSize..<samples.upperBound * inputSize])
                            network.forwardRecording(genome: theta, inputs: inputs, batchSize: B, outputs: out)
                            withUnsafeMutablePointer(to: &meanLoss) {
                                loss.forward(
                                    losses: UnsafeMutableBufferPointer(start: $0, count: 1),
                                    outputs: UnsafeBufferPointer(out),
                                    populationSize: 1, samples: samples)
                            }
                            dout.update(repeating: 0)
                            dLoss.withUnsafeBufferPointer { dl in
                                loss.backward(
                                    dOutputs: dout, outputs: UnsafeBufferPointer(out), dLosses: dl, populationSize: 1,
                                    samples: samples)
                            }
                            dtheta.update(repeating: 0)
                            network.backward(
                                genome: theta, outputGradient: UnsafeBufferPointer(dout), parameterGradient: dtheta,
                                inputGradient: nil)
                        }
                    }
                }
            }
        }
        return meanLoss
    }
}
