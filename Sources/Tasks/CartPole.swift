import Foundation
import Kernels

/// Gymnasium's `CartPole-v1`: balance a pole on a cart by pushing it left or right.
///
/// Barto, Sutton & Anderson (1983), "Neuronlike adaptive elements that can solve difficult learning
/// control problems", with Gymnasium's constants and its explicit Euler integrator (τ = 0.02 s).
/// State `(x, ẋ, θ, θ̇)` in float64. With `F = ±10`, `m_p = 0.1`, `M = m_c + m_p = 1.1`, `l = 0.5`
/// (half the pole), `g = 9.8`:
///
///     temp = (F + m_p l θ̇² sin θ) / M
///     θ̈ = (g sin θ − cos θ · temp) / (l (4/3 − m_p cos² θ / M))
///     ẍ = temp − m_p l θ̈ cos θ / M
///
/// then `x += τ ẋ`, `ẋ += τ ẍ`, `θ += τ θ̇`, `θ̇ += τ θ̈` (old values on the right). Reward 1 per
/// step including the terminating one; terminated when `|x| > 2.4` or `|θ| > 12°`; truncated after
/// 500 steps. Start state uniform in `[−0.05, 0.05]⁴`. Actions: 0 pushes left, 1 pushes right.
/// The operations are written in Gymnasium's order so the float64 results agree to the bit.
public struct CartPole: ControlEnvironment {
    public let id = "CartPole-v1"
    public let stateSize = 4
    public let observationSize = 4
    public let actionSpace = ActionSpace.discrete(2)
    public let maxEpisodeSteps = 500

    static let gravity = 9.8
    static let massCart = 1.0
    static let massPole = 0.1
    static let totalMass = massPole + massCart
    static let length = 0.5
    static let poleMassLength = massPole * length
    static let forceMagnitude = 10.0
    static let tau = 0.02
    static let thetaThreshold = 12 * 2 * Double.pi / 360
    static let xThreshold = 2.4

    public init() {}

    public func reset(_ state: UnsafeMutablePointer<Double>, stream: inout RandomStream) {
        for i in 0..<4 { state[i] = stream.uniform(-0.05, 0.05) }
    }

    public func observe(_ state: UnsafePointer<Double>, into observation: UnsafeMutablePointer<Float>) {
        for i in 0..<4 { observation[i] = Float(state[i]) }
    }

    public func step(_ state: UnsafeMutablePointer<Double>, action: ControlAction, stepIndex: Int) -> ControlStepResult
    {
        guard case .discrete(let a) = action else { preconditionFailure("CartPole takes a discrete action") }
        let (x, xDot, theta, thetaDot) = (state[0], state[1], state[2], state[3])
        let force = a == 1 ? Self.forceMagnitude : -Self.forceMagnitude
        let cosTheta = cos(theta)
        let sinTheta = sin(theta)
        let temp = (force + Self.poleMassLength * (thetaDot * thetaDot) * sinTheta) / Self.totalMass
        let thetaAcc =
            (Self.gravity * sinTheta - cosTheta * temp)
            / (Self.length * (4.0 / 3.0 - Self.massPole * (cosTheta * cosTheta) / Self.totalMass))
        let xAcc = temp - Self.poleMassLength * thetaAcc * cosTheta / Self.totalMass
        state[0] = x + Self.tau * xDot
        state[1] = xDot + Self.tau * xAcc
        state[2] = theta + Self.tau * thetaDot
        state[3] = thetaDot + Self.tau * thetaAcc
        let terminated =
            state[0] < -Self.xThreshold || state[0] > Self.xThreshold
            || state[2] < -Self.thetaThreshold || state[2] > Self.thetaThreshold
        return ControlStepResult(reward: 1, terminated: terminated)
    }
}
