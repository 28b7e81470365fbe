import Networks

/// Something that scores networks: the fitness the genetic algorithm maximises.
///
/// A task scores a whole population at once. `evaluate` receives `P` genomes of one `Network`
/// (flat `[P × parameterCount]` float32, `ParameterLayout` order) and writes `P` fitness values,
/// **higher is better**. Implementations batch the work: a dataset task runs one forward pass of
/// all genomes over its training split; a control task steps every genome's episodes in lock-step,
/// one batched forward per time step.
///
/// Randomness: `evaluate` depends only on the genomes, the `generation` and the run's `seed`.
/// Every genome of a generation faces the same conditions (for control tasks, the same start
/// states), so fitness values within a generation are comparable, and a rerun gives the same
/// values.
///
/// Threads: the built-in dataset and control tasks are immutable, so several threads may call
/// `evaluate` at once, each with its own `Network` (a `Network` owns scratch buffers).
/// `ExternalTask` serialises calls.
///
/// Besides fitness a task offers:
/// - `probeInputs`: a fixed batch of inputs for behavioural comparison (the meta-learner compares
///   a decoded network's outputs on them with the original's);
/// - `differentiableLoss(for:)`: when fitness is a loss of the network's outputs that has a
///   gradient (datasets), that loss and its gradient with respect to the outputs;
/// - `report`: fitness plus task-specific metrics (test accuracy, episode returns…) for one genome.
public protocol FitnessTask: AnyObject {
    /// The task's name as given on the command line (`digits`, `CartPole-v1`, …).
    var name: String { get }
    /// What the fitness value is (`neg_cross_entropy`, `accuracy`, `mean_return`, …).
    var fitnessName: String { get }
    /// Values per input sample the network must accept; `nil` when the task does not constrain it.
    var inputSize: Int? { get }
    /// Values per output sample the network must produce; `nil` when unconstrained.
    var outputSize: Int? { get }
    /// Whether an algorithm that carries individuals into the next generation (a GA's elites) must
    /// score them again there: true when fitness is measured on a sample that changes with the
    /// generation (minibatch fitness), so only scores of one generation are comparable.
    var rescoresSurvivors: Bool { get }

    /// Scores `populationSize` genomes of `network`.
    ///
    /// - Parameters:
    ///   - genomes: `[populationSize × network.parameterCount]`.
    ///   - network: the architecture the genomes are parameters of (used by this thread only).
    ///   - generation: the generation being scored; control tasks draw start states from it.
    ///   - seed: the run's seed.
    ///   - fitness: receives `populationSize` values, higher is better.
    /// - Throws: `TaskError.incompatibleNetwork` if the network's sizes do not fit the task, or the
    ///   task's own errors (an external evaluator that crashed, …).
    func evaluate(
        genomes: UnsafeBufferPointer<Float>, populationSize: Int, network: Network,
        generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>) throws

    /// Whether `evaluate(lowRank:…)` scores genomes of `network` (false: write them out and call
    /// `evaluate`).
    func supportsLowRank(_ network: Network) -> Bool

    /// Scores `populationSize` genomes given as an anchor plus low-rank codes (EGGROLL), without
    /// forming their weights: the scores `evaluate` gives them written out, up to rounding. Only
    /// where `supportsLowRank(network)`.
    func evaluate(
        lowRank: LowRankGenomes, populationSize: Int, network: Network,
        generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>) throws

    /// `count` network inputs, `[count × inputSize]`, for comparing networks' behaviour.
    ///
    /// Datasets return training samples (a seeded choice); control tasks return observations
    /// recorded in episodes under a uniformly random policy. The same `seed` gives the same batch.
    /// `nil` when the task has no inputs of its own (an external evaluator).
    func probeInputs(count: Int, seed: UInt64) -> [Float]?

    /// The task's differentiable loss for networks like `network`, or `nil` when fitness is not a
    /// differentiable function of the outputs (control, external tasks).
    func differentiableLoss(for network: Network) -> (any DifferentiableLoss)?

    /// Fitness and the task's metrics for one genome (what `atoll evaluate` prints).
    func report(genome: [Float], network: Network, generation: Int, seed: UInt64) throws -> TaskReport
}

extension FitnessTask {
    /// False: the genomes are written out and scored by `evaluate`.
    public func supportsLowRank(_ network: Network) -> Bool { false }

    public func evaluate(
        lowRank: LowRankGenomes, populationSize: Int, network: Network,
        generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>
    ) throws {
        preconditionFailure("\(name) does not score low-rank genomes (supportsLowRank is false)")
    }

    /// False: control tasks also draw start states per generation, but survivors keep their scores.
    public var rescoresSurvivors: Bool { false }

    /// Throws `TaskError.incompatibleNetwork` unless the network's input and output sizes are the
    /// ones the task needs.
    public func checkCompatible(_ network: Network) throws {
        if let inputSize, network.inputSize != inputSize {
            throw TaskError.incompatibleNetwork(
                task: name, what: "input", expected: inputSize, found: network.inputSize)
        }
        if let outputSize, network.outputSize != outputSize {
            throw TaskError.incompatibleNetwork(
                task: name, what: "output", expected: outputSize, found: network.outputSize)
        }
    }

    /// `evaluate` on arrays, returning the fitness values.
    public func evaluate(genomes: [Float], populationSize: Int, network: Network, generation: Int, seed: UInt64) throws
        -> [Float]
    {
        var fitness = [Float](repeating: 0, count: populationSize)
        try genomes.withUnsafeBufferPointer { g in
            try fitness.withUnsafeMutableBufferPointer { f in
                try evaluate(
                    genomes: g, populationSize: populationSize, network: network, generation: generation, seed: seed,
                    fitness: f)
            }
        }
        return fitness
    }
}

/// A loss of the network's outputs over a fixed set of samples, with its gradient.
///
/// The samples are the task's training data: `inputs` is `[sampleCount × inputSize]`. A caller
/// runs the network on a contiguous range of samples (all of them, or minibatches) and passes the
/// outputs `[P × count × outputSize]`, genome after genome, for `P` genomes at once. The loss of
/// genome `p` is the **mean** over the samples of the per-sample loss.
public protocol DifferentiableLoss {
    /// `cross_entropy` or `mse`.
    var name: String { get }
    /// Number of samples.
    var sampleCount: Int { get }
    /// Values per input sample.
    var inputSize: Int { get }
    /// Values per output sample.
    var outputSize: Int { get }
    /// The samples' inputs, `[sampleCount × inputSize]`.
    var inputs: [Float] { get }

    /// losses[p] = mean over `samples` of the loss of genome `p`'s outputs.
    ///
    /// outputs is (P, samples.count, outputSize); losses is (P).
    func forward(
        losses: UnsafeMutableBufferPointer<Float>, outputs: UnsafeBufferPointer<Float>, populationSize: Int,
        samples: Range<Int>)

    /// Adds `dLosses[p] · ∂losses[p]/∂outputs[p]` into `dOutputs` (it does not zero it first).
    ///
    /// dOutputs and outputs are (P, samples.count, outputSize); dLosses is (P).
    func backward(
        dOutputs: UnsafeMutableBufferPointer<Float>, outputs: UnsafeBufferPointer<Float>,
        dLosses: UnsafeBufferPointer<Float>, populationSize: Int, samples: Range<Int>)
}

/// Errors common to all tasks.
public enum TaskError: Error, CustomStringConvertible, Equatable {
    case incompatibleNetwork(task: String, what: String, expected: Int, found: Int)
    case unknownTask(String, known: [String])
    case invalidOption(String)

    public var description: String {
        switch self {
        case .incompatibleNetwork(let task, let what, let expected, let found):
            "task \(task) needs a network with \(expected) \(what) values per sample, the network has \(found)"
        case .unknownTask(let name, let known):
            "unknown task '\(name)'; known tasks: \(known.joined(separator: ", "))"
        case .invalidOption(let message):
            message
        }
    }
}
