import Kernels

extension AttentionAutoencoder {
    /// Backward pass of the last `forward`: adds `∂loss/∂parameters` into `gradients`.
    ///
    /// Mirrors the forward pass in reverse, with the activations' gradients in a twin of the
    /// activation buffer (zeroed here).
    ///
    /// - Parameters:
    ///   - dDecoded: `[B, T, C]`, `∂loss/∂decoded`.
    ///   - dLatents: `[B, K, d_z]`, `∂loss/∂latents` from terms on the latent itself (the fitness
    ///     head's `backward` writes one), or `nil`.
    public func backward(dDecoded: UnsafePointer<Float>, dLatents: UnsafePointer<Float>?) {
        guard let plan, plan.mode == .training, let e = plan.encoder, let D = plan.decoder else {
            preconditionFailure("backward needs a training forward pass first")
        }
        let B = plan.batch
        let T = plan.tokens
        let Tp = e.paddedTokens
        let C = config.tokenValues
        let d = config.width
        let K = config.latents
        let dz = config.latentWidth
        let E = config.fourierWidth
        let p = UnsafePointer(parameters.baseAddress!)
        let dp = gradients.baseAddress!
        let acts = UnsafePointer(activations.pointer)
        let dacts = activationGradients.filled(plan.count, with: 0)
        let scratch = dacts + plan.scratch

        (dacts + D.decoded).update(from: dDecoded, count: B * T * C)
        if let dLatents { (dacts + plan.latent).update(from: dLatents, count: B * K * dz) }

        // decoder, in reverse
        linearBackward(
            dacts + D.norm, dp + outputWeight, dp + outputBias, dacts + D.decoded, acts + D.norm, p + outputWeight,
            B * T, d, C)
        layerNormBackward(
            dacts + D.cross.output, dp + decoderNormWeight, dp + decoderNormBias, dacts + D.norm, acts + D.cross.output,
            p + decoderNormWeight, acts + D.normMean, acts + D.normRstd, B * T, d)
        decoderCross.backward(dp, dacts, scratch, p, acts, D.cross)
        linearBackward(
            nil, dp + queryWeight, dp + queryBias, dacts + D.queries, acts + D.fourier, p + queryWeight, B * T, E, d)
        for (block, a) in zip(decoderLatentBlocks, D.latentBlocks).reversed() {
            block.backward(dp, dacts, scratch, p, acts, a)
        }
        residualBackward(dacts + D.fromLatent, dacts + D.latentPosition, dacts + D.latentInput, B * K * d)
        broadcastBackward(dp + latentPosition, dacts + D.latentPosition, B, K * d)
        linearBackward(
            dacts + plan.latent, dp + fromLatentWeight, dp + fromLatentBias, dacts + D.fromLatent, acts + plan.latent,
            p + fromLatentWeight, B * K, dz, d)

        // encoder, in reverse
        let last = e.latentBlocks.last?.output ?? e.cross.output
        linearBackward(
            dacts + e.norm, dp + toLatentWeight, dp + toLatentBias, dacts + plan.latent, acts + e.norm,
            p + toLatentWeight, B * K, d, dz)
        layerNormBackward(
            dacts + last, dp + encoderNormWeight, dp + encoderNormBias, dacts + e.norm, acts + last,
            p + encoderNormWeight, acts + e.normMean, acts + e.normRstd, B * K, d)
        for (block, a) in zip(encoderLatentBlocks, e.latentBlocks).reversed() {
            block.backward(dp, dacts, scratch, p, acts, a)
        }
        encoderCross.backward(dp, dacts, scratch, p, acts, e.cross)
        broadcastBackward(dp + latentQueries, dacts + e.latentQueries, B, K * d)
        for (block, a) in zip(tokenBlocks, e.tokenBlocks).reversed() { block.backward(dp, dacts, scratch, p, acts, a) }
        residualBackward(dacts + e.valueEmbedding, dacts + e.positionEmbedding, dacts + e.embedding, B * Tp * d)
        linearBackward(
            nil, dp + embedWeight, dp + embedBias, dacts + e.valueEmbedding, acts + e.tokens, p + embedWeight, B * Tp,
            C, d)
        linearBackward(
            nil, dp + encoderPositionWeight, nil, dacts + e.positionEmbedding, acts + e.fourier,
            p + encoderPositionWeight, B * Tp, E, d)
    }
}
