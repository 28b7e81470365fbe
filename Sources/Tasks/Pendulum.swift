import Foundation
import Kernels

/// Gymnasium's `Pendulum-v1`: swing a pendulum up and hold it upright with a limited torque.
///
/// State `(θ, θ̇)` in float64, θ = 0 upright. With `g = 10`, `m = l = 1`, `dt = 0.05`, torque
/// `u = clip(a, −2, 2)` (float32):
///
///     cost = normalize(θ)² + 0.1 θ̇² + 0.001 u²
///     θ̇ ← clip(θ̇ + (3g/(2l) sin θ + 3/(m l²) u) dt, −8, 8);  θ ← θ + θ̇ dt
///
/// (semi-implicit Euler: the new θ̇ moves θ), reward `−cost` (of the state before the step), never
/// terminated, truncated after 200 steps. `normalize(θ) = ((θ + π) mod 2π) − π` with NumPy's
/// floored modulo. Start state uniform in `[−π, π] × [−1, 1]`. Observation `(cos θ, sin θ, θ̇)`.
/// Terms with `u` are float32 as in Gymnasium under NumPy 2.
public struct Pendulum: ControlEnvironment {
    public let id = "Pendulum-v1"
    public let stateSize = 2
    public let observationSize = 3
    public let actionSpace = ActionSpace.continuous(low: -2, high: 2)
    public let maxEpisodeSteps = 200

    static let maxSpeed = 8.0
    static let maxTorque: Float = 2.0
    static let dt = 0.05
    static let gravity = 10.0
    static let mass = 1.0
    static let length = 1.0

    public init() {}

    public func reset(_ state: UnsafeMutablePointer<Double>, stream: inout RandomStream) {
        state[0] = stream.uniform(-Double.pi, Double.pi)
        state[1] = stream.uniform(-1, 1)
    }

    public func observe(_ state: UnsafePointer<Double>, into observation: UnsafeMutablePointer<Float>) {
        observation[0] = Float(cos(state[0]))
        observation[1] = Float(sin(state[0]))
        observation[2] = Float(state[1])
    }

    public func step(_ state: UnsafeMutablePointer<Double>, action: ControlAction, stepIndex: Int) -> ControlStepResult
    {
        guard case .continuous(let a) = action else { preconditionFailure("Pendulum takes a continuous action") }
        let theta = state[0]
        let thetaDot = state[1]
        let u: Float = Swift.min(Swift.max(a, -Self.maxTorque), Self.maxTorque)
        let normalized = Self.normalizeAngle(theta)
        let cost = normalized * normalized + 0.1 * (thetaDot * thetaDot) + Double(Float(0.001) * (u * u))
        let torqueTerm = Double(Float(3.0 / (Self.mass * (Self.length * Self.length))) * u)
        var newThetaDot = thetaDot + (3 * Self.gravity / (2 * Self.length) * sin(theta) + torqueTerm) * Self.dt
        newThetaDot = Swift.min(Swift.max(newThetaDot, -Self.maxSpeed), Self.maxSpeed)
        state[0] = theta + newThetaDot * Self.dt
        state[1] = newThetaDot
        return ControlStepResult(reward: -cost, terminated: false)
    }

    /// `((x + π) mod 2π) − π` with NumPy's `%` on float64: `fmod`, then shifted by the divisor
    /// when the remainder's sign differs from the divisor's.
    static func normalizeAngle(_ x: Double) -> Double {
        let divisor = 2 * Double.pi
        var remainder = fmod(x + Double.pi, divisor)
        if remainder != 0 {
            if remainder < 0 { remainder += divisor }
        } else {
            remainder = 0
        }
        return remainder - Double.pi
    }
}
