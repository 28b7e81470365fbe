import Foundation
import Kernels

/// Gymnasium's `Acrobot-v1`: swing a two-link pendulum, actuated at the middle joint, so its tip
/// rises one link length above the pivot.
///
/// Sutton & Barto, *Reinforcement Learning: An Introduction* (1998), §11.3 ("book" dynamics, with
/// the `−m₂ l₁ l_c2 θ̇₁² sin θ₂` term in θ̈₂), as in Gymnasium: both links of mass 1, length 1,
/// centre of mass 0.5, moment of inertia 1, `g = 9.8`. State `(θ₁, θ₂, θ̇₁, θ̇₂)` in float64. One
/// step integrates the equations of motion over `dt = 0.2 s` with a single classical fourth-order
/// Runge–Kutta step (Gymnasium's `rk4` over `t = [0, dt]`), then wraps both angles into `[−π, π]`
/// and clips `θ̇₁` to `±4π`, `θ̇₂` to `±9π`. Actions 0, 1, 2 apply torque −1, 0, +1. Reward −1
/// per step and 0 on the terminating step; terminated when `−cos θ₁ − cos(θ₁ + θ₂) > 1`;
/// truncated after 500 steps. Start state uniform in `[−0.1, 0.1]⁴`, rounded to float32 (Gymnasium
/// casts it). Observation `(cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂)`.
public struct Acrobot: ControlEnvironment {
    public let id = "Acrobot-v1"
    public let stateSize = 4
    public let observationSize = 6
    public let actionSpace = ActionSpace.discrete(3)
    public let maxEpisodeSteps = 500

    static let dt = 0.2
    static let linkLength1 = 1.0
    static let linkMass1 = 1.0
    static let linkMass2 = 1.0
    static let linkCenterOfMass1 = 0.5
    static let linkCenterOfMass2 = 0.5
    static let linkMomentOfInertia = 1.0
    static let maxVelocity1 = 4 * Double.pi
    static let maxVelocity2 = 9 * Double.pi
    static let torques: [Double] = [-1.0, 0.0, 1.0]
    static let gravity = 9.8

    public init() {}

    public func reset(_ state: UnsafeMutablePointer<Double>, stream: inout RandomStream) {
        for i in 0..<4 { state[i] = Double(Float(stream.uniform(-0.1, 0.1))) }
    }

    public func observe(_ state: UnsafePointer<Double>, into observation: UnsafeMutablePointer<Float>) {
        observation[0] = Float(cos(state[0]))
        observation[1] = Float(sin(state[0]))
        observation[2] = Float(cos(state[1]))
        observation[3] = Float(sin(state[1]))
        observation[4] = Float(state[2])
        observation[5] = Float(state[3])
    }

    public func step(_ state: UnsafeMutablePointer<Double>, action: ControlAction, stepIndex: Int) -> ControlStepResult
    {
        guard case .discrete(let a) = action else { preconditionFailure("Acrobot takes a discrete action") }
        let torque = Self.torques[a]
        let y0 = (state[0], state[1], state[2], state[3])
        let dt = Self.dt
        let dt2 = dt / 2.0
        let k1 = Self.derivatives(y0, torque)
        let k2 = Self.derivatives(Self.axpy(y0, dt2, k1), torque)
        let k3 = Self.derivatives(Self.axpy(y0, dt2, k2), torque)
        let k4 = Self.derivatives(Self.axpy(y0, dt, k3), torque)
        let h = dt / 6.0
        var next = (
            y0.0 + h * (k1.0 + 2 * k2.0 + 2 * k3.0 + k4.0),
            y0.1 + h * (k1.1 + 2 * k2.1 + 2 * k3.1 + k4.1),
            y0.2 + h * (k1.2 + 2 * k2.2 + 2 * k3.2 + k4.2),
            y0.3 + h * (k1.3 + 2 * k2.3 + 2 * k3.3 + k4.3)
        )
        next.0 = Self.wrap(next.0)
        next.1 = Self.wrap(next.1)
        next.2 = min(max(next.2, -Self.maxVelocity1), Self.maxVelocity1)
        next.3 = min(max(next.3, -Self.maxVelocity2), Self.maxVelocity2)
        state[0] = next.0
        state[1] = next.1
        state[2] = next.2
        state[3] = next.3
        let terminated = -cos(next.0) - cos(next.1 + next.0) > 1.0
        return ControlStepResult(reward: terminated ? 0 : -1, terminated: terminated)
    }

    typealias Vector = (Double, Double, Double, Double)

    /// `y + a·k`, element-wise.
    private static func axpy(_ y: Vector, _ a: Double, _ k: Vector) -> Vector {
        (y.0 + a * k.0, y.1 + a * k.1, y.2 + a * k.2, y.3 + a * k.3)
    }

    /// Gymnasium's `_dsdt` ("book" variant): `(θ̇₁, θ̇₂, θ̈₁, θ̈₂)` at state `s` under torque `a`.
    ///
    ///     d₁ = m₁ l_c1² + m₂ (l₁² + l_c2² + 2 l₁ l_c2 cos θ₂) + I₁ + I₂
    ///     d₂ = m₂ (l_c2² + l₁ l_c2 cos θ₂) + I₂
    ///     φ₂ = m₂ l_c2 g cos(θ₁ + θ₂ − π/2)
    ///     φ₁ = −m₂ l₁ l_c2 θ̇₂² sin θ₂ − 2 m₂ l₁ l_c2 θ̇₂ θ̇₁ sin θ₂ + (m₁ l_c1 + m₂ l₁) g cos(θ₁ − π/2) + φ₂
    ///     θ̈₂ = (a + d₂/d₁ φ₁ − m₂ l₁ l_c2 θ̇₁² sin θ₂ − φ₂) / (m₂ l_c2² + I₂ − d₂²/d₁)
    ///     θ̈₁ = −(d₂ θ̈₂ + φ₁) / d₁
    static func derivatives(_ s: Vector, _ a: Double) -> Vector {
        let m1 = linkMass1
        let m2 = linkMass2
        let l1 = linkLength1
        let lc1 = linkCenterOfMass1
        let lc2 = linkCenterOfMass2
        let i1 = linkMomentOfInertia
        let i2 = linkMomentOfInertia
        let g = gravity
        let (theta1, theta2, dtheta1, dtheta2) = s
        let cosTheta2 = cos(theta2)
        let sinTheta2 = sin(theta2)
        let d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cosTheta2) + i1 + i2
        let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cosTheta2) + i2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1 =
            -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sinTheta2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sinTheta2
            + (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2) + phi2
        let ddtheta2 =
            (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sinTheta2 - phi2)
            / (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return (dtheta1, dtheta2, ddtheta1, ddtheta2)
    }

    /// Gymnasium's `wrap(x, −π, π)`: adds or subtracts 2π until `x ∈ [−π, π]`.
    static func wrap(_ value: Double) -> Double {
        var x = value
        let diff = Double.pi - -Double.pi
        while x > Double.pi { x = x - diff }
        while x < -Double.pi { x = x + diff }
        return x
    }
}
