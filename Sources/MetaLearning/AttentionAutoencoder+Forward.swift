import Foundation
import Kernels

extension AttentionAutoencoder {
    /// Encodes a batch of genomes into latents; read them from `latents`.
    ///
    /// - Parameters:
    ///   - tokens: `[B, T, C]` token values (zero-padded chunks).
    ///   - mask: `[B, T]`, 1 for a real token, 0 for a padding token (genomes shorter than `T`).
    ///   - positions: `[B, T, F]` raw position features (`TokenPositionFeature` order).
    ///   - batch: `B`.
    ///   - tokenCount: `T`.
    public func encode(
        tokens: UnsafePointer<Float>, mask: UnsafePointer<Float>, positions: UnsafePointer<Float>, batch: Int,
        tokenCount: Int
    ) {
        groupedOutputCount = nil
        let plan = preparePlan(.encode, batch: batch, tokenCount: tokenCount)
        encoderForward(plan, tokens: tokens, mask: mask, positions: positions)
    }

    /// Decodes latents into token values; read them from `decoded`.
    ///
    /// Genomes are decoded in groups of at most `decodeTokenBudget / T` (at least one), so the
    /// activations of a large batch of large networks stay within a fixed memory budget; the
    /// grouping changes the results only by BLAS rounding (about 1e−7 relative). The decoder has
    /// no token mask: tokens past a genome's length decode to values the caller ignores.
    ///
    /// - Parameters:
    ///   - latents: `[B, K, d_z]`.
    ///   - positions: `[B, T, F]` raw position features of the tokens to produce.
    ///   - batch: `B`.
    ///   - tokenCount: `T`.
    public func decode(latents: UnsafePointer<Float>, positions: UnsafePointer<Float>, batch: Int, tokenCount: Int) {
        let T = tokenCount
        let C = config.tokenValues
        let Z = config.latentSize
        let F = config.positionFeatures
        // copied first: `latents` may point into the activation buffer, which a plan may grow
        let given = Array(UnsafeBufferPointer(start: latents, count: batch * Z))
        let group = max(1, min(batch, decodeTokenBudget / T))
        if group == batch {
            groupedOutputCount = nil
            let plan = preparePlan(.decode, batch: batch, tokenCount: T)
            (activations.pointer + plan.latent).update(from: given, count: given.count)
            decoderForward(plan, positions: positions)
            return
        }
        groupedOutput.reserve(batch * T * C)
        let output = groupedOutput.pointer
        for start in stride(from: 0, to: batch, by: group) {
            let count = min(group, batch - start)
            let plan = preparePlan(.decode, batch: count, tokenCount: T)
            given.withUnsafeBufferPointer {
                (activations.pointer + plan.latent).update(from: $0.baseAddress! + start * Z, count: count * Z)
            }
            decoderForward(plan, positions: positions + start * T * F)
            (output + start * T * C).update(from: activations.pointer + plan.decoder!.decoded, count: count * T * C)
        }
        groupedOutputCount = batch * T * C
    }

    /// The training forward pass: encodes the tokens and decodes them again, keeping every
    /// activation for `backward`. Read the results from `latents` and `decoded`; padded tokens are
    /// decoded too, and their loss gradients should be 0.
    ///
    /// - Parameters: as `encode`.
    public func forward(
        tokens: UnsafePointer<Float>, mask: UnsafePointer<Float>, positions: UnsafePointer<Float>, batch: Int,
        tokenCount: Int
    ) {
        groupedOutputCount = nil
        let plan = preparePlan(.training, batch: batch, tokenCount: tokenCount)
        encoderForward(plan, tokens: tokens, mask: mask, positions: positions)
        decoderForward(plan, positions: positions)
    }

    /// The plan for `(mode, B, T)`, made and given room when it changes.
    func preparePlan(_ mode: ActivationPlan.Mode, batch: Int, tokenCount: Int) -> ActivationPlan {
        precondition(batch > 0 && tokenCount > 0, "a batch needs at least one genome of at least one token")
        if let plan, plan.mode == mode, plan.batch == batch, plan.tokens == tokenCount { return plan }
        let made = makePlan(mode, batch: batch, tokenCount: tokenCount)
        activations.growKeeping(made.count, fill: 0)
        plan = made
        return made
    }

    private func makePlan(_ mode: ActivationPlan.Mode, batch B: Int, tokenCount T: Int) -> ActivationPlan {
        let C = config.tokenValues
        let d = config.width
        let K = config.latents
        let dz = config.latentWidth
        let F = config.positionFeatures
        let E = config.fourierWidth
        var layout = ActivationLayout()
        var largestAttention = K * K
        let latent = layout.take(B * K * dz)

        var encoder: ActivationPlan.Encoder?
        if mode != .decode {
            let window = tokenBlocks.isEmpty ? T : min(config.window, T)
            let Tp = (T + window - 1) / window * window
            let tokens = layout.take(B * Tp * C)
            let mask = layout.take(B * Tp)
            let positions = layout.take(B * Tp * F)
            let fourier = layout.take(B * Tp * E)
            let valueEmbedding = layout.take(B * Tp * d)
            let positionEmbedding = layout.take(B * Tp * d)
            let embedding = layout.take(B * Tp * d)
            var current = embedding
            var tokenActivations = [AttentionBlock.Activations]()
            for block in tokenBlocks {
                let a = block.plan(
                    &layout, input: current, context: nil, mask: mask,
                    attentionBatch: B * Tp / window, queries: window, keys: window)
                tokenActivations.append(a)
                current = a.output
            }
            largestAttention = max(largestAttention, window * window, K * Tp)
            let queries = layout.take(B * K * d)
            let cross = encoderCross.plan(
                &layout, input: queries, context: current, mask: mask, attentionBatch: B, queries: K, keys: Tp)
            current = cross.output
            var latentActivations = [AttentionBlock.Activations]()
            for block in encoderLatentBlocks {
                let a = block.plan(
                    &layout, input: current, context: nil, mask: nil, attentionBatch: B, queries: K, keys: K)
                latentActivations.append(a)
                current = a.output
            }
            encoder = ActivationPlan.Encoder(
                paddedTokens: Tp, window: window, tokens: tokens, mask: mask, positions: positions, fourier: fourier,
                valueEmbedding: valueEmbedding, positionEmbedding: positionEmbedding, embedding: embedding,
                tokenBlocks: tokenActivations, latentQueries: queries, cross: cross, latentBlocks: latentActivations,
                norm: layout.take(B * K * d), normMean: layout.take(B * K), normRstd: layout.take(B * K)
            )
        }

        var decoder: ActivationPlan.Decoder?
        if mode != .encode {
            let fourier = layout.take(B * T * E)
            let fromLatent = layout.take(B * K * d)
            let slots = layout.take(B * K * d)
            let latentInput = layout.take(B * K * d)
            var current = latentInput
            var latentActivations = [AttentionBlock.Activations]()
            for block in decoderLatentBlocks {
                let a = block.plan(
                    &layout, input: current, context: nil, mask: nil, attentionBatch: B, queries: K, keys: K)
                latentActivations.append(a)
                current = a.output
            }
            let queries = layout.take(B * T * d)
            let cross = decoderCross.plan(
                &layout, input: queries, context: current, mask: nil, attentionBatch: B, queries: T, keys: K)
            largestAttention = max(largestAttention, T * K)
            decoder = ActivationPlan.Decoder(
                fourier: fourier, fromLatent: fromLatent, latentPosition: slots, latentInput: latentInput,
                latentBlocks: latentActivations, queries: queries, cross: cross,
                norm: layout.take(B * T * d), normMean: layout.take(B * T), normRstd: layout.take(B * T),
                decoded: layout.take(B * T * C)
            )
        }
        let scratch = layout.take(largestAttention)
        return ActivationPlan(
            mode: mode, batch: B, tokens: T, latent: latent, encoder: encoder, decoder: decoder,
            scratch: scratch, count: layout.count)
    }

    private func encoderForward(
        _ plan: ActivationPlan, tokens: UnsafePointer<Float>, mask: UnsafePointer<Float>,
        positions: UnsafePointer<Float>
    ) {
        guard let e = plan.encoder else { preconditionFailure("plan without encoder") }
        let B = plan.batch
        let T = plan.tokens
        let Tp = e.paddedTokens
        let C = config.tokenValues
        let d = config.width
        let K = config.latents
        let dz = config.latentWidth
        let F = config.positionFeatures
        let E = config.fourierWidth
        let p = UnsafePointer(parameters.baseAddress!)
        let acts = activations.pointer

        // zero-padded copies of the inputs, (B,Tp,·)
        for b in 0..<B {
            (acts + e.tokens + b * Tp * C).update(from: tokens + b * T * C, count: T * C)
            (acts + e.tokens + (b * Tp + T) * C).update(repeating: 0, count: (Tp - T) * C)
            (acts + e.mask + b * Tp).update(from: mask + b * T, count: T)
            (acts + e.mask + b * Tp + T).update(repeating: 0, count: Tp - T)
            (acts + e.positions + b * Tp * F).update(from: positions + b * T * F, count: T * F)
            (acts + e.positions + (b * Tp + T) * F).update(repeating: 0, count: (Tp - T) * F)
        }
        fourierFeaturesForward(acts + e.fourier, acts + e.positions, B * Tp, F, config.fourierFrequencies)
        linearForward(acts + e.valueEmbedding, acts + e.tokens, p + embedWeight, p + embedBias, B * Tp, C, d)
        linearForward(acts + e.positionEmbedding, acts + e.fourier, p + encoderPositionWeight, nil, B * Tp, E, d)
        residualForward(acts + e.embedding, acts + e.valueEmbedding, acts + e.positionEmbedding, B * Tp * d)
        for (block, a) in zip(tokenBlocks, e.tokenBlocks) { block.forward(p, acts, a) }
        broadcastForward(acts + e.latentQueries, p + latentQueries, B, K * d)
        encoderCross.forward(p, acts, e.cross)
        for (block, a) in zip(encoderLatentBlocks, e.latentBlocks) { block.forward(p, acts, a) }
        let last = e.latentBlocks.last?.output ?? e.cross.output
        layerNormForward(
            acts + e.norm, acts + e.normMean, acts + e.normRstd, acts + last, p + encoderNormWeight,
            p + encoderNormBias, B * K, d)
        linearForward(acts + plan.latent, acts + e.norm, p + toLatentWeight, p + toLatentBias, B * K, d, dz)
    }

    private func decoderForward(_ plan: ActivationPlan, positions: UnsafePointer<Float>) {
        guard let D = plan.decoder else { preconditionFailure("plan without decoder") }
        let B = plan.batch
        let T = plan.tokens
        let C = config.tokenValues
        let d = config.width
        let K = config.latents
        let dz = config.latentWidth
        let F = config.positionFeatures
        let E = config.fourierWidth
        let p = UnsafePointer(parameters.baseAddress!)
        let acts = activations.pointer

        // Token queries depend on positions only: when every genome has the same positions (one
        // layout), they are computed for the first genome and copied.
        var shared = true
        for b in 1..<B where shared {
            shared = memcmp(positions, positions + b * T * F, T * F * MemoryLayout<Float>.size) == 0
        }
        let queryRows = shared ? T : B * T
        fourierFeaturesForward(acts + D.fourier, positions, queryRows, F, config.fourierFrequencies)
        linearForward(acts + D.fromLatent, acts + plan.latent, p + fromLatentWeight, p + fromLatentBias, B * K, dz, d)
        broadcastForward(acts + D.latentPosition, p + latentPosition, B, K * d)
        residualForward(acts + D.latentInput, acts + D.fromLatent, acts + D.latentPosition, B * K * d)
        for (block, a) in zip(decoderLatentBlocks, D.latentBlocks) { block.forward(p, acts, a) }
        linearForward(acts + D.queries, acts + D.fourier, p + queryWeight, p + queryBias, queryRows, E, d)
        if shared {
            for b in 1..<B {
                (acts + D.fourier + b * T * E).update(from: acts + D.fourier, count: T * E)
                (acts + D.queries + b * T * d).update(from: acts + D.queries, count: T * d)
            }
        }
        decoderCross.forward(p, acts, D.cross, repeatedQueries: shared)
        layerNormForward(
            acts + D.norm, acts + D.normMean, acts + D.normRstd, acts + D.cross.output, p + decoderNormWeight,
            p + decoderNormBias, B * T, d)
        linearForward(acts + D.decoded, acts + D.norm, p + outputWeight, p + outputBias, B * T, d, C)
    }
}
