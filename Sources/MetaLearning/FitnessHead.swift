import Kernels

/// The surrogate fitness predictor: an MLP on the mean-pooled latent.
///
/// `ẑ = (1/K) Σ_k z_k` (`[B, d_z]`), `ŷ = GELU(ẑ W₁ᵀ + b₁) W₂ᵀ + b₂` (`[B]`), trained to predict the
/// rank-normalised fitness so the GA can pre-screen offspring. Its tensors (`head.*`) live in the
/// autoencoder's parameter buffer, so one allreduce moves its gradients too; it is owned by an
/// `AttentionAutoencoder` and must not outlive it.
public final class FitnessHead {
    let latents: Int, latentWidth: Int, hidden: Int
    let fc1Weight: Int, fc1Bias: Int, fc2Weight: Int, fc2Bias: Int
    private let parameters: UnsafeMutablePointer<Float>
    private let gradients: UnsafeMutablePointer<Float>
    private let activations = ScratchBuffer<Float>()
    private let activationGradients = ScratchBuffer<Float>()
    private var batch = 0

    /// Adds the head's tensors to `table`.
    static func register(_ config: MetaLearnerConfig, _ table: inout ParameterTable) {
        _ = table.add("head.fc1.weight", [config.fitnessHidden, config.latentWidth], decays: true)
        _ = table.add("head.fc1.bias", [config.fitnessHidden], decays: false)
        _ = table.add("head.fc2.weight", [1, config.fitnessHidden], decays: true)
        _ = table.add("head.fc2.bias", [1], decays: false)
    }

    init(
        config: MetaLearnerConfig, table: ParameterTable, parameters: UnsafeMutablePointer<Float>,
        gradients: UnsafeMutablePointer<Float>
    ) {
        latents = config.latents
        latentWidth = config.latentWidth
        hidden = config.fitnessHidden
        fc1Weight = table["head.fc1.weight"]!.offset
        fc1Bias = table["head.fc1.bias"]!.offset
        fc2Weight = table["head.fc2.weight"]!.offset
        fc2Bias = table["head.fc2.bias"]!.offset
        self.parameters = parameters
        self.gradients = gradients
    }

    /// Weights `N(0, 1/fan_in)`, biases 0.
    func initialize(random: inout RandomStream) {
        random.fillGaussian(
            UnsafeMutableBufferPointer(start: parameters + fc1Weight, count: hidden * latentWidth),
            std: 1 / Float(latentWidth).squareRoot())
        random.fillGaussian(
            UnsafeMutableBufferPointer(start: parameters + fc2Weight, count: hidden),
            std: 1 / Float(hidden).squareRoot())
    }

    // activation offsets for a batch of B: pooled (B, d_z), fc1 (B, H), gelu (B, H), predictions (B)
    private var pooled: Int { 0 }
    private var fc1: Int { batch * latentWidth }
    private var gelu: Int { batch * (latentWidth + hidden) }
    private var predictions: Int { batch * (latentWidth + 2 * hidden) }
    private var activationCount: Int { batch * (latentWidth + 2 * hidden + 1) }

    /// Predicts the fitness of each latent.
    ///
    /// - Parameters:
    ///   - latents: `[B, K, d_z]`.
    ///   - batch: `B`.
    /// - Returns: `[B]` predictions, valid until the next call.
    @discardableResult
    public func forward(latents z: UnsafePointer<Float>, batch B: Int) -> UnsafeBufferPointer<Float> {
        batch = B
        activations.growKeeping(activationCount, fill: 0)
        let p = UnsafePointer(parameters)
        let acts = activations.pointer
        meanPoolForward(acts + pooled, z, B, latents, latentWidth)
        linearForward(acts + fc1, acts + pooled, p + fc1Weight, p + fc1Bias, B, latentWidth, hidden)
        geluTanhForward(acts + gelu, acts + fc1, B * hidden)
        linearForward(acts + predictions, acts + gelu, p + fc2Weight, p + fc2Bias, B, hidden, 1)
        return UnsafeBufferPointer(start: acts + predictions, count: B)
    }

    /// Backward pass of the last `forward`: adds into the head's gradients and into `dLatents`.
    ///
    /// - Parameters:
    ///   - dLatents: `[B, K, d_z]`, added into (pass it to `AttentionAutoencoder.backward`).
    ///   - dPredictions: `[B]`, `∂loss/∂ŷ`.
    public func backward(dLatents: UnsafeMutablePointer<Float>, dPredictions: UnsafePointer<Float>) {
        guard batch > 0 else { preconditionFailure("FitnessHead.backward needs a forward pass first") }
        let B = batch
        let p = UnsafePointer(parameters)
        let acts = UnsafePointer(activations.pointer)
        let dacts = activationGradients.filled(activationCount, with: 0)
        linearBackward(
            dacts + gelu, gradients + fc2Weight, gradients + fc2Bias, dPredictions, acts + gelu, p + fc2Weight, B,
            hidden, 1)
        geluTanhBackward(dacts + fc1, acts + fc1, dacts + gelu, B * hidden)
        linearBackward(
            dacts + pooled, gradients + fc1Weight, gradients + fc1Bias, dacts + fc1, acts + pooled, p + fc1Weight, B,
            latentWidth, hidden)
        meanPoolBackward(dLatents, dacts + pooled, B, latents, latentWidth)
    }
}
