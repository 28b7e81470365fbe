import Foundation

/// The hyper-parameters of AdamW.
public struct AdamWSettings: Codable, Equatable, Sendable {
    /// First-moment decay `β₁`.
    public var beta1: Float
    /// Second-moment decay `β₂`.
    public var beta2: Float
    /// `ε` added to `√v̂`.
    public var epsilon: Float
    /// Decoupled weight decay `λ`.
    public var weightDecay: Float

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// One AdamW step (Loshchilov & Hutter 2019, "Decoupled weight decay regularization"), as
/// PyTorch's `torch.optim.AdamW`:
///
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`,
/// `θ ← θ − η (m̂ / (√v̂ + ε) + λθ)`.
///
/// The decay acts on the parameter directly, not through the gradient (that is the "decoupled"
/// part). Call it with `weightDecay: 0` for tensors that should not decay (biases, norms).
///
/// - Parameters:
///   - params: `(N)`, updated.
///   - grads: `(N)`.
///   - m: `(N)`, first moments, updated.
///   - v: `(N)`, second moments, updated.
///   - learningRate: `η`.
///   - step: `t`, counting from 1.
public func adamWUpdate(
    _ params: UnsafeMutablePointer<Float>, _ grads: UnsafePointer<Float>,
    _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
    _ N: Int, learningRate: Float, settings: AdamWSettings, weightDecay: Float, step: Int
) {
    precondition(step >= 1, "AdamW steps count from 1")
    let beta1 = settings.beta1
    let beta2 = settings.beta2
    let correction1 = 1 - Float(pow(Double(beta1), Double(step)))
    let correction2 = 1 - Float(pow(Double(beta2), Double(step)))
    for i in 0..<N {
        let g = grads[i]
        let mi = beta1 * m[i] + (1 - beta1) * g
        let vi = beta2 * v[i] + (1 - beta2) * g * g
        m[i] = mi
        v[i] = vi
        let mHat = mi / correction1
        let vHat = vi / correction2
        params[i] -= learningRate * (mHat / (vHat.squareRoot() + settings.epsilon) + weightDecay * params[i])
    }
}
