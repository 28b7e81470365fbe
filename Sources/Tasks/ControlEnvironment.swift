import Kernels

/// The actions an environment accepts and how a network's outputs become one.
public enum ActionSpace: Sendable, Equatable {
    /// `n` discrete actions; the network has `n` outputs and the action is their argmax (the first
    /// largest; NaN outputs never win).
    case discrete(Int)
    /// One real action in `[low, high]`; the network has one output, clipped to the bounds (the
    /// clipping Gymnasium applies itself, done before the step so the reward sees the applied
    /// action). A NaN output becomes the middle of the bounds.
    case continuous(low: Float, high: Float)

    /// Number of network outputs a policy needs.
    public var outputSize: Int {
        switch self {
        case .discrete(let n): n
        case .continuous: 1
        }
    }

    /// The action a policy takes given its `outputSize` outputs at `outputs`.
    @inline(__always)
    public func action(from outputs: UnsafePointer<Float>) -> ControlAction {
        switch self {
        case .discrete(let n):
            var best = 0
            var bestValue = -Float.infinity
            for k in 0..<n where outputs[k] > bestValue {
                best = k
                bestValue = outputs[k]
            }
            return .discrete(best)
        case .continuous(let low, let high):
            let value = outputs[0]
            return .continuous(value.isNaN ? (low + high) / 2 : Swift.min(Swift.max(value, low), high))
        }
    }
}

/// One action given to an environment.
public enum ControlAction: Sendable, Equatable {
    case discrete(Int)
    case continuous(Float)
}

/// What one step returned.
public struct ControlStepResult: Sendable, Equatable {
    public var reward: Double
    /// The episode reached a terminal state (Gymnasium's `terminated`, not time-limit truncation).
    public var terminated: Bool
}

/// A classic-control environment with Gymnasium's dynamics, written as pure functions of a state
/// vector so a whole population's episodes can be stored in one flat buffer and stepped in
/// lock-step.
///
/// Each environment keeps its state as float64 in `stateSize` doubles, exactly the values of
/// Gymnasium's `env.unwrapped.state` (where Gymnasium keeps float32, the stored values are
/// float32-representable and the arithmetic follows NumPy 2's float32 rules). The observation a
/// policy sees is Gymnasium's float32 observation.
public protocol ControlEnvironment: Sendable {
    /// Gymnasium's id, e.g. `"CartPole-v1"`.
    var id: String { get }
    /// Doubles in the state vector.
    var stateSize: Int { get }
    /// Floats in an observation (the network's input size).
    var observationSize: Int { get }
    /// The actions and how network outputs map to them.
    var actionSpace: ActionSpace { get }
    /// Steps after which Gymnasium's `TimeLimit` truncates an episode.
    var maxEpisodeSteps: Int { get }
    /// Draws a start state from Gymnasium's reset distribution into `state`.
    func reset(_ state: UnsafeMutablePointer<Double>, stream: inout RandomStream)
    /// Writes the observation of `state` into `observation` (`observationSize` floats).
    func observe(_ state: UnsafePointer<Double>, into observation: UnsafeMutablePointer<Float>)
    /// Advances `state` by one step under `action`.
    ///
    /// - Parameter stepIndex: the number of steps taken since the reset (0 for the first step);
    ///   only environments whose numeric type changes after the first step use it.
    func step(_ state: UnsafeMutablePointer<Double>, action: ControlAction, stepIndex: Int) -> ControlStepResult
}

/// The built-in classic-control environments.
public enum ClassicControl {
    /// CartPole-v1, Acrobot-v1, MountainCarContinuous-v0 and Pendulum-v1.
    public static let environments: [any ControlEnvironment] = [
        CartPole(), Acrobot(), MountainCarContinuous(), Pendulum(),
    ]

    /// The environment with Gymnasium id `id`, or `nil`.
    public static func environment(named id: String) -> (any ControlEnvironment)? {
        environments.first { $0.id == id }
    }
}
