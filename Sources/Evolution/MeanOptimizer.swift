import Foundation

/// A stochastic-gradient optimizer that moves an evolution strategy's mean `μ` along its
/// estimated fitness gradient `g` (ascent: higher fitness is better), the way PGPE and OpenAI-ES
/// are run in practice (Salimans et al. 2017 with Adam; EvoJAX's PGPE with Adam; Toklu et al.
/// 2020, *ClipUp*, with ClipUp).
///
/// With weight decay `λ_wd` the gradient is first `g ← g − λ_wd μ` (an L2 penalty on the mean,
/// as OpenAI-ES adds it). Then, with learning rate `η`, step `t = 1, 2, …`:
/// - `sgd`: `Δ = η g`;
/// - `momentum`: `v ← m v + g`, `Δ = η v` (heavy ball, `m` = `momentum`);
/// - `adam` (Kingma & Ba 2015): `a ← β₁ a + (1 − β₁) g`, `b ← β₂ b + (1 − β₂) g²`,
///   `Δ = η (a / (1 − β₁ᵗ)) / (√(b / (1 − β₂ᵗ)) + ε)`;
/// - `clipup`: `v ← m v + η g/‖g‖`, then `v ← v · min(1, max_speed/‖v‖)`, `Δ = v` (Toklu et al.
///   choose `max_speed` first and `η = max_speed / 2`).
///
/// and `μ ← μ + Δ`. Norms and Adam's bias corrections are computed in Double; the state is
/// `Codable` (a checkpoint resumes bit for bit).
public struct MeanOptimizer: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case sgd, momentum, adam, clipup
    }

    public let kind: Kind
    /// `η`.
    public let learningRate: Float
    /// `m`, the velocity's decay (`momentum`, `clipup`).
    public let momentum: Float
    /// Adam's `β₁`, `β₂`, `ε`.
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// ClipUp's speed limit, `‖v‖ ≤ max_speed`.
    public let maxSpeed: Float
    /// `λ_wd`, the L2 coefficient on the mean.
    public let weightDecay: Float
    /// Velocity `v` (momentum, ClipUp) or Adam's first moment `a`, `[D]` (empty for `sgd`).
    @Packed var velocity: [Float]
    /// Adam's second moment `b`, `[D]` (empty otherwise).
    @Packed var secondMoment: [Float]
    /// Steps taken, `t`.
    public private(set) var steps = 0

    /// - Parameters:
    ///   - dimension: `D`, the length of the mean.
    ///   - maxSpeed: ClipUp's limit; `2 η` when nil (Toklu et al.'s `η = max_speed / 2`).
    public init(
        kind: Kind, dimension: Int, learningRate: Float, momentum: Float = 0.9, beta1: Float = 0.9,
        beta2: Float = 0.999,
        epsilon: Float = 1e-8, maxSpeed: Float? = nil, weightDecay: Float = 0
    ) {
        precondition(learningRate > 0 && learningRate.isFinite, "the learning rate must be a finite value above 0")
        precondition(
            (0..<1).contains(momentum) && (0..<1).contains(beta1) && (0..<1).contains(beta2),
            "momentum and β must lie in [0, 1)")
        precondition(epsilon > 0 && weightDecay >= 0, "ε must be above 0 and the weight decay at least 0")
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.maxSpeed = maxSpeed ?? 2 * learningRate
        precondition(self.maxSpeed > 0, "max_speed must be above 0")
        self.weightDecay = weightDecay
        velocity = [Float](repeating: 0, count: kind == .sgd ? 0 : dimension)
        secondMoment = [Float](repeating: 0, count: kind == .adam ? dimension : 0)
    }

    /// One step: `gradient` (`g`, `[D]`, overwritten with the change `Δ` it made) moves `mean`.
    public mutating func step(_ gradient: inout [Float], mean: inout [Float]) {
        let d = gradient.count
        precondition(
            mean.count == d && (kind == .sgd || velocity.count == d),
            "the gradient, the mean and the optimizer differ in length")
        steps += 1
        if weightDecay > 0 { for j in 0..<d { gradient[j] -= weightDecay * mean[j] } }
        switch kind {
        case .sgd:
            for j in 0..<d { gradient[j] *= learningRate }
        case .momentum:
            for j in 0..<d {
                velocity[j] = momentum * velocity[j] + gradient[j]
                gradient[j] = learningRate * velocity[j]
            }
        case .adam:
            let correction1 = Float(1 - Foundation.pow(Double(beta1), Double(steps)))
            let correction2 = Float(1 - Foundation.pow(Double(beta2), Double(steps)))
            for j in 0..<d {
                let g = gradient[j]
                velocity[j] = beta1 * velocity[j] + (1 - beta1) * g
                secondMoment[j] = beta2 * secondMoment[j] + (1 - beta2) * g * g
                gradient[j] =
                    learningRate * (velocity[j] / correction1)
                    / ((secondMoment[j] / correction2).squareRoot() + epsilon)
            }
        case .clipup:
            let norm = Self.norm(gradient)
            let scale = norm > 0 ? Float(Double(learningRate) / norm) : 0
            for j in 0..<d { velocity[j] = momentum * velocity[j] + scale * gradient[j] }
            let speed = Self.norm(velocity)
            if speed > Double(maxSpeed) {
                let shrink = Float(Double(maxSpeed) / speed)
                for j in 0..<d { velocity[j] *= shrink }
            }
            for j in 0..<d { gradient[j] = velocity[j] }
        }
        for j in 0..<d { mean[j] += gradient[j] }
    }

    /// `‖x‖`, summed in Double.
    static func norm(_ x: [Float]) -> Double {
        var squared = 0.0
        for v in x { squared += Double(v) * Double(v) }
        return squared.squareRoot()
    }
}
