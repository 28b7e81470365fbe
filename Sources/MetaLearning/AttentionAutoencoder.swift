import Kernels

// B = genomes in the batch, T = tokens per genome (padded to the longest), C = values per token,
// d = model width, K = latents, d_z = latent width, F = raw position features, E = F·(1+2L) Fourier
// features, W = tokens per self-attention window.

/// The attention autoencoder over network weights: a genome's tokens `[B, T, C]` → latent
/// `[B, K, d_z]` → tokens `[B, T, C]`.
///
/// Encoder (a Perceiver, Jaegle et al. 2021): `x = tokens W_eᵀ + b_e + Fourier(pos) W_pᵀ`; optional
/// pre-LN self-attention blocks within windows of `W` consecutive tokens; `K` learned latent
/// queries cross-attend to all tokens (padded tokens masked out); self-attention blocks among the
/// latents; `z = LN(latents) W_zᵀ + b_z`. Decoder: `h = z W_hᵀ + b_h + P` (`P` a learned `[K, d]`
/// table telling the latent slots apart); self-attention blocks among the latents; each token's
/// query `Fourier(pos) W_qᵀ + b_q` cross-attends to the latents (a block with its MLP, of hidden
/// width `tokenMlpRatio·d`);
/// `values = LN(·) W_oᵀ + b_o`. Cost grows with `K·T`, never `T²`, and no parameter's size depends
/// on `T`.
///
/// All parameters, the fitness head's included, live in one flat buffer described by
/// `parameterTable`; `gradients` is its twin. Activations live in a reusable buffer planned for
/// the current `(B, T)` and grown when a larger batch comes.
///
/// A training step: `zeroGradients()`, `forward(…)`, loss gradients, `backward(…)`, then AdamW over
/// `parameters`/`gradients`.
public final class AttentionAutoencoder {
    /// The sizes.
    public let config: MetaLearnerConfig
    /// Name, shape and offset of every tensor in `parameters`.
    public let parameterTable: ParameterTable
    /// Every parameter, one flat buffer.
    public let parameters: UnsafeMutableBufferPointer<Float>
    /// Gradients with the layout of `parameters`; backward passes add into them.
    public let gradients: UnsafeMutableBufferPointer<Float>
    /// The surrogate fitness predictor on the pooled latent; its parameters are in `parameters`.
    public let fitnessHead: FitnessHead

    let tokenBlocks: [AttentionBlock]
    let encoderCross: AttentionBlock
    let encoderLatentBlocks: [AttentionBlock]
    let decoderLatentBlocks: [AttentionBlock]
    let decoderCross: AttentionBlock

    let embedWeight: Int, embedBias: Int, encoderPositionWeight: Int, latentQueries: Int
    let encoderNormWeight: Int, encoderNormBias: Int, toLatentWeight: Int, toLatentBias: Int
    let fromLatentWeight: Int, fromLatentBias: Int, latentPosition: Int
    let queryWeight: Int, queryBias: Int
    let decoderNormWeight: Int, decoderNormBias: Int, outputWeight: Int, outputBias: Int

    /// Activations of the current plan, and their gradients with the same layout.
    let activations = ScratchBuffer<Float>()
    let activationGradients = ScratchBuffer<Float>()
    var plan: ActivationPlan?
    /// The output of a `decode` done in groups of genomes, and its size (`nil` otherwise).
    let groupedOutput = ScratchBuffer<Float>()
    var groupedOutputCount: Int?

    /// Most token rows (`genomes · T`) a `decode` processes at once; larger batches are decoded in
    /// groups of genomes. 16,384 rows keep the decoder's activations near 80 MB at the default sizes.
    public var decodeTokenBudget = 16_384

    /// A model with freshly initialised parameters.
    ///
    /// Initialisation: layer-norm gains 1 and biases 0; weights `N(0, 1/fan_in)`, with the
    /// projections that write into a residual stream scaled by `1/√(2·blocks)` (GPT-2); the learned
    /// latent queries and latent-slot table `N(0, 1)`.
    ///
    /// - Parameters:
    ///   - config: the sizes.
    ///   - seed: seeds the `"meta-learner init"` random stream.
    /// - Throws: `MetaLearnerConfigError` when the configuration is unusable.
    public init(config: MetaLearnerConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        let C = config.tokenValues
        let d = config.width
        let K = config.latents
        let dz = config.latentWidth
        let E = config.fourierWidth
        let hidden = config.mlpHidden
        let tokenHidden = config.tokenMlpHidden
        let heads = config.heads
        var table = ParameterTable()

        embedWeight = table.add("encoder.embed.weight", [d, C], decays: true)
        embedBias = table.add("encoder.embed.bias", [d], decays: false)
        encoderPositionWeight = table.add("encoder.position.weight", [d, E], decays: true)
        tokenBlocks = (0..<config.encoderTokenLayers).map {
            AttentionBlock(
                prefix: "encoder.tokenBlocks.\($0)", width: d, heads: heads, hidden: tokenHidden, cross: false,
                table: &table)
        }
        latentQueries = table.add("encoder.latentQueries", [K, d], decays: true)
        encoderCross = AttentionBlock(
            prefix: "encoder.cross", width: d, heads: heads, hidden: hidden, cross: true, table: &table)
        encoderLatentBlocks = (0..<config.encoderLatentLayers).map {
            AttentionBlock(
                prefix: "encoder.latentBlocks.\($0)", width: d, heads: heads, hidden: hidden, cross: false,
                table: &table)
        }
        encoderNormWeight = table.add("encoder.norm.weight", [d], decays: false)
        encoderNormBias = table.add("encoder.norm.bias", [d], decays: false)
        toLatentWeight = table.add("encoder.toLatent.weight", [dz, d], decays: true)
        toLatentBias = table.add("encoder.toLatent.bias", [dz], decays: false)

        fromLatentWeight = table.add("decoder.fromLatent.weight", [d, dz], decays: true)
        fromLatentBias = table.add("decoder.fromLatent.bias", [d], decays: false)
        latentPosition = table.add("decoder.latentPosition", [K, d], decays: true)
        decoderLatentBlocks = (0..<config.decoderLatentLayers).map {
            AttentionBlock(
                prefix: "decoder.latentBlocks.\($0)", width: d, heads: heads, hidden: hidden, cross: false,
                table: &table)
        }
        queryWeight = table.add("decoder.query.weight", [d, E], decays: true)
        queryBias = table.add("decoder.query.bias", [d], decays: false)
        decoderCross = AttentionBlock(
            prefix: "decoder.cross", width: d, heads: heads, hidden: tokenHidden, cross: true, table: &table)
        decoderNormWeight = table.add("decoder.norm.weight", [d], decays: false)
        decoderNormBias = table.add("decoder.norm.bias", [d], decays: false)
        outputWeight = table.add("decoder.output.weight", [C, d], decays: true)
        outputBias = table.add("decoder.output.bias", [C], decays: false)
        FitnessHead.register(config, &table)

        parameterTable = table
        parameters = .allocate(capacity: table.count)
        parameters.initialize(repeating: 0)
        gradients = .allocate(capacity: table.count)
        gradients.initialize(repeating: 0)
        fitnessHead = FitnessHead(
            config: config, table: table, parameters: parameters.baseAddress!, gradients: gradients.baseAddress!)
        initializeParameters(seed: seed)
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    private func initializeParameters(seed: UInt64) {
        var random = RandomStream(seed: seed, purpose: "meta-learner init")
        let p = parameters.baseAddress!
        let C = config.tokenValues
        let d = config.width
        let K = config.latents
        let dz = config.latentWidth
        let E = config.fourierWidth
        func fill(_ offset: Int, _ count: Int, std: Float) {
            random.fillGaussian(UnsafeMutableBufferPointer(start: p + offset, count: count), std: std)
        }
        let blocks = tokenBlocks + [encoderCross] + encoderLatentBlocks + decoderLatentBlocks + [decoderCross]
        let residualScale = 1 / Float(2 * blocks.count).squareRoot()
        fill(embedWeight, d * C, std: 1 / Float(C).squareRoot())
        fill(encoderPositionWeight, d * E, std: 1 / Float(E).squareRoot())
        fill(latentQueries, K * d, std: 1)
        for block in blocks { block.initialize(p, random: &random, residualScale: residualScale) }
        for offset in [encoderNormWeight, decoderNormWeight] { (p + offset).update(repeating: 1, count: d) }
        fill(toLatentWeight, dz * d, std: 1 / Float(d).squareRoot())
        fill(fromLatentWeight, d * dz, std: 1 / Float(dz).squareRoot())
        fill(latentPosition, K * d, std: 1)
        fill(queryWeight, d * E, std: 1 / Float(E).squareRoot())
        fill(outputWeight, C * d, std: 1 / Float(d).squareRoot())
        fitnessHead.initialize(random: &random)
    }

    /// Sets every gradient to zero (backward passes add into them).
    public func zeroGradients() {
        gradients.update(repeating: 0)
    }

    /// The latents `[B, K, d_z]` of the last `encode` or `forward`.
    public var latents: UnsafeBufferPointer<Float> {
        guard let plan, plan.encoder != nil else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: activations.pointer + plan.latent, count: plan.batch * config.latentSize)
    }

    /// The token values `[B, T, C]` of the last `decode` or `forward`.
    public var decoded: UnsafeBufferPointer<Float> {
        if let groupedOutputCount {
            return UnsafeBufferPointer(start: groupedOutput.pointer, count: groupedOutputCount)
        }
        guard let plan, let decoder = plan.decoder else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(
            start: activations.pointer + decoder.decoded, count: plan.batch * plan.tokens * config.tokenValues)
    }
}
