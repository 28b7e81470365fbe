import Foundation
import Kernels
import Networks

/// Fitness on a classic-control environment: the mean return of `episodes` episodes.
///
/// The network is the policy: its input is the observation, its outputs become an action through
/// `ActionSpace.action(from:)` (argmax for discrete actions; clipped to the bounds for continuous
/// ones). In generation `g` of a run with seed `s`, episode `e` of every genome starts from the
/// same state, drawn from Gymnasium's reset distribution with
/// `RandomStream(seed: s, generation: g, purpose: "start-states <id>")`; so genomes of a
/// generation are compared on equal terms, and the start states change from one generation to
/// the next.
///
/// All `P × episodes` episodes run in lock-step: each time step is one batched forward of the
/// genomes that still have a running episode (`batchSize` = episodes, `sharedInputs: false`),
/// then one environment step per running episode. An episode ends when it terminates or after
/// `maxEpisodeSteps` steps (Gymnasium's truncation). Genomes whose episodes have all ended are
/// dropped from the forward pass.
public final class ControlTask: FitnessTask, Sendable {
    public let environment: any ControlEnvironment
    /// Episodes per genome per evaluation.
    public let episodes: Int

    public var name: String { environment.id }
    public let fitnessName = "mean_return"
    public var inputSize: Int? { environment.observationSize }
    public var outputSize: Int? { environment.actionSpace.outputSize }

    /// Start states change with the generation: only one generation's scores compare, so survivors
    /// are scored again and an island's best is its current generation's (as with minibatch fitness).
    public var rescoresSurvivors: Bool { true }

    public init(environment: any ControlEnvironment, episodes: Int = 1) {
        precondition(episodes >= 1, "episodes must be at least 1")
        self.environment = environment
        self.episodes = episodes
    }

    /// The start state of each episode of `generation`, `[episodes × stateSize]`.
    public func startStates(generation: Int, seed: UInt64) -> [Double] {
        var stream = RandomStream(seed: seed, generation: generation, purpose: "start-states \(environment.id)")
        var states = [Double](repeating: 0, count: episodes * environment.stateSize)
        states.withUnsafeMutableBufferPointer { s in
            for e in 0..<episodes { environment.reset(s.baseAddress! + e * environment.stateSize, stream: &stream) }
        }
        return states
    }

    public func evaluate(
        genomes: UnsafeBufferPointer<Float>, populationSize: Int, network: Network,
        generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>
    ) throws {
        try checkCompatible(network)
        let returns = run(
            genomes: genomes, populationSize: populationSize, network: network, generation: generation, seed: seed
        ).returns
        for p in 0..<populationSize {
            var sum = 0.0
            for e in 0..<episodes { sum += returns[p * episodes + e] }
            fitness[p] = DatasetTask.finiteOrWorst(Float(sum / Double(episodes)))
        }
    }

    /// Runs every genome's episodes; returns and lengths are `[P × episodes]`.
    func run(
        genomes: UnsafeBufferPointer<Float>, populationSize P: Int, network: Network, generation: Int, seed: UInt64
    ) -> (returns: [Double], lengths: [Int]) {
        let env = environment
        let E = episodes
        let S = env.stateSize
        let O = env.observationSize
        let A = env.actionSpace.outputSize
        let n = network.parameterCount
        let start = startStates(generation: generation, seed: seed)
        var states = [Double](repeating: 0, count: P * E * S)
        for p in 0..<P { states.replaceSubrange(p * E * S..<(p + 1) * E * S, with: start) }
        var returns = [Double](repeating: 0, count: P * E)
        var lengths = [Int](repeating: 0, count: P * E)
        var running = [Bool](repeating: true, count: P * E)
        // Genomes with a running episode, and a compact copy of their parameters.
        var active = Array(0..<P)
        var activeGenomes = Array(genomes[0..<P * n])
        var observations = [Float](repeating: 0, count: P * E * O)
        var outputs = [Float](repeating: 0, count: P * E * A)

        states.withUnsafeMutableBufferPointer { state in
            for t in 0..<env.maxEpisodeSteps {
                observations.withUnsafeMutableBufferPointer { obs in
                    for (slot, p) in active.enumerated() {
                        for e in 0..<E where running[p * E + e] {
                            env.observe(
                                state.baseAddress! + (p * E + e) * S, into: obs.baseAddress! + (slot * E + e) * O)
                        }
                    }
                }
                activeGenomes.withUnsafeBufferPointer { g in
                    observations.withUnsafeBufferPointer { x in
                        outputs.withUnsafeMutableBufferPointer { y in
                            network.forward(
                                genomes: g, populationSize: active.count, inputs: x, batchSize: E, sharedInputs: false,
                                outputs: y)
                        }
                    }
                }
                var stillActive: [Int] = []
                outputs.withUnsafeBufferPointer { y in
                    for (slot, p) in active.enumerated() {
                        var anyRunning = false
                        for e in 0..<E where running[p * E + e] {
                            let i = p * E + e
                            let action = env.actionSpace.action(from: y.baseAddress! + (slot * E + e) * A)
                            let result = env.step(state.baseAddress! + i * S, action: action, stepIndex: t)
                            returns[i] += result.reward
                            lengths[i] = t + 1
                            if result.terminated { running[i] = false } else { anyRunning = true }
                        }
                        if anyRunning { stillActive.append(p) }
                    }
                }
                if stillActive.isEmpty { break }
                if stillActive.count != active.count {
                    // Compact the parameters of the genomes that still run (observations are
                    // rewritten from the states at the next step).
                    for (slot, p) in stillActive.enumerated() {
                        for j in 0..<n { activeGenomes[slot * n + j] = genomes[p * n + j] }
                    }
                    active = stillActive
                }
            }
        }
        return (returns, lengths)
    }

    /// Observations from episodes under a uniformly random policy (episodes from
    /// `RandomStream(seed: seed, purpose: "probe-inputs")`, one observation kept every
    /// `max(1, maxEpisodeSteps / 50)` steps, including each start state), until `count` are
    /// collected.
    public func probeInputs(count: Int, seed: UInt64) -> [Float]? {
        let env = environment
        var stream = RandomStream(seed: seed, purpose: "probe-inputs")
        let keepEvery = max(1, env.maxEpisodeSteps / 50)
        var probe = [Float]()
        probe.reserveCapacity(count * env.observationSize)
        var state = [Double](repeating: 0, count: env.stateSize)
        var observation = [Float](repeating: 0, count: env.observationSize)
        state.withUnsafeMutableBufferPointer { s in
            while probe.count < count * env.observationSize {
                env.reset(s.baseAddress!, stream: &stream)
                for t in 0..<env.maxEpisodeSteps {
                    if t % keepEvery == 0 && probe.count < count * env.observationSize {
                        env.observe(s.baseAddress!, into: &observation)
                        probe += observation
                    }
                    let action: ControlAction
                    switch env.actionSpace {
                    case .discrete(let k): action = .discrete(stream.below(k))
                    case .continuous(let low, let high):
                        action = .continuous(Float(stream.uniform(Double(low), Double(high))))
                    }
                    if env.step(s.baseAddress!, action: action, stepIndex: t).terminated { break }
                }
            }
        }
        return probe
    }

    public func differentiableLoss(for network: Network) -> (any DifferentiableLoss)? { nil }

    public func report(genome: [Float], network: Network, generation: Int, seed: UInt64) throws -> TaskReport {
        try checkCompatible(network)
        let (returns, lengths) = genome.withUnsafeBufferPointer {
            run(genomes: $0, populationSize: 1, network: network, generation: generation, seed: seed)
        }
        let mean = returns.reduce(0, +) / Double(returns.count)
        return TaskReport(
            task: name, fitnessName: fitnessName, fitness: Double(DatasetTask.finiteOrWorst(Float(mean))),
            episodes: TaskReport.EpisodeMetrics(returns: returns, lengths: lengths, meanReturn: mean))
    }
}
