import Foundation
import Kernels

/// Gymnasium's `MountainCarContinuous-v0`: drive an underpowered car up to the flag at x = 0.45.
///
/// Moore (1990), "Efficient memory-based learning for robot control", continuous-action version
/// as in Gymnasium. With force `f = clip(a, −1, 1)`, power 0.0015:
///
///     v ← clip(v + f · 0.0015 − 0.0025 cos(3x), −0.07, 0.07)
///     x ← clip(x + v, −1.2, 0.6);  v ← 0 if x = −1.2 and v < 0
///
/// Terminated when `x ≥ 0.45` and `v ≥ 0`; truncated after 999 steps. Reward `−0.1 a²` per step,
/// plus 100 on reaching the goal. Start `x` uniform in `[−0.6, −0.4]`, `v = 0`.
///
/// Numeric types follow Gymnasium under NumPy 2: the start state is float64, and every step stores
/// a float32 state; so the first step runs on float64 values, later steps in float32 arithmetic
/// (`f · 0.0015` and the update in float32, `cos` in float64). This is why `stepIndex` matters.
/// `state[0]` is x, `state[1]` is v.
public struct MountainCarContinuous: ControlEnvironment {
    public let id = "MountainCarContinuous-v0"
    public let stateSize = 2
    public let observationSize = 2
    public let actionSpace = ActionSpace.continuous(low: -1, high: 1)
    public let maxEpisodeSteps = 999

    static let minPosition = -1.2
    static let maxPosition = 0.6
    static let maxSpeed = 0.07
    static let goalPosition = 0.45
    static let power = 0.0015

    public init() {}

    public func reset(_ state: UnsafeMutablePointer<Double>, stream: inout RandomStream) {
        state[0] = stream.uniform(-0.6, -0.4)
        state[1] = 0
    }

    public func observe(_ state: UnsafePointer<Double>, into observation: UnsafeMutablePointer<Float>) {
        observation[0] = Float(state[0])
        observation[1] = Float(state[1])
    }

    public func step(_ state: UnsafeMutablePointer<Double>, action: ControlAction, stepIndex: Int) -> ControlStepResult
    {
        guard case .continuous(let a) = action else {
            preconditionFailure("MountainCarContinuous takes a continuous action")
        }
        let position = state[0]
        var velocity = state[1]
        // Gymnasium: force = min(max(action[0], -1.0), 1.0); a clipped force is a Python float.
        let clipped = a < -1 || a > 1
        let force: Float = Swift.min(Swift.max(a, -1), 1)
        let float64State = stepIndex == 0
        let threeX = float64State ? 3 * position : Double(Float(3 * position))
        let gravityTerm = 0.0025 * cos(threeX)
        // force * power - 0.0025 * cos(3x): float32 when force is float32 (NumPy 2 weak scalars).
        let acceleration: Double =
            clipped
            ? Double(force) * Self.power - gravityTerm
            : Double(force * Float(Self.power) - Float(gravityTerm))
        if float64State {
            velocity += acceleration
        } else {
            velocity = Double(Float(velocity) + Float(acceleration))
        }
        if velocity > Self.maxSpeed { velocity = float64State ? Self.maxSpeed : Double(Float(Self.maxSpeed)) }
        if velocity < -Self.maxSpeed { velocity = float64State ? -Self.maxSpeed : Double(Float(-Self.maxSpeed)) }
        var newPosition = float64State ? position + velocity : Double(Float(position) + Float(velocity))
        var positionIsFloat32 = !float64State
        if newPosition > Self.maxPosition {
            newPosition = Self.maxPosition
            positionIsFloat32 = false
        }
        if newPosition < Self.minPosition {
            newPosition = Self.minPosition
            positionIsFloat32 = false
        }
        if newPosition == Self.minPosition && velocity < 0 { velocity = 0 }
        let reachedGoal =
            positionIsFloat32 ? Float(newPosition) >= Float(Self.goalPosition) : newPosition >= Self.goalPosition
        let terminated = reachedGoal && velocity >= 0
        var reward = terminated ? 100.0 : 0.0
        reward -= pow(Double(a), 2) * 0.1
        state[0] = Double(Float(newPosition))
        state[1] = Double(Float(velocity))
        return ControlStepResult(reward: reward, terminated: terminated)
    }
}
