// B = genomes, T = tokens per genome, Tp = T rounded up to whole windows, K = latents, H = heads,
// hs = d/H channels per head.

extension AttentionAutoencoder {
    /// How much the encoder's pooling looks at each token of the last `encode` or `forward`:
    /// the cross-attention probabilities averaged over heads and latent queries.
    ///
    /// With `P[b, h, k, t] = softmax_t(q_{b,h,k} · k_{b,h,t} / √hs + mask[b, t])` the probabilities
    /// `encoderCross` computed (`q = LN₁(latent queries) W_qᵀ + b_q`, `k = LN_c(x_b) W_kᵀ + b_k`, `x`
    /// the token blocks' output, `mask` `−∞` on padded tokens):
    /// `out[b, t] = (1 / (H·K)) Σ_h Σ_k P[b, h, k, t]` for `t < T`.
    /// Each row is a distribution over the genome's real tokens (it sums to 1, and padded tokens,
    /// masked or past `T` up to the window multiple `Tp`, carry exactly 0); a genome with no real
    /// token gets an all-zero row. The probabilities are read where the attention forward pass
    /// kept them, so this costs `B·H·K·T` additions.
    ///
    /// out is (B, T), overwritten, for the `B` and `T` of the last encode.
    public func tokenAttention(_ out: UnsafeMutablePointer<Float>) {
        guard let plan, let e = plan.encoder else {
            preconditionFailure("tokenAttention needs an encode or forward first")
        }
        let B = plan.batch
        let T = plan.tokens
        let Tp = e.paddedTokens
        let K = config.latents
        let H = config.heads
        let cross = e.cross
        precondition(
            cross.attentionBatch == B && cross.queries == K && cross.keys == Tp, "unexpected cross-attention geometry")
        let att = UnsafePointer(activations.pointer + cross.probabilities)  // (B, H, K, Tp)
        let scale = 1 / Float(H * K)
        for b in 0..<B {
            let o = out + b * T
            o.update(repeating: 0, count: T)
            for row in 0..<H * K {
                let p = att + (b * H * K + row) * Tp
                for t in 0..<T { o[t] += p[t] }
            }
            for t in 0..<T { o[t] *= scale }
        }
    }

    /// The encoder's attention on each token of `B` genomes: `[B·n]` → `[B·T]`.
    ///
    /// Encodes the genomes as `encode(genomes:batch:tokenizer:)` does (same groups, same latents
    /// left in `latents` for the last group) and gathers `tokenAttention(_:)` after each group:
    /// `out[b, t] = (1 / (H·K)) Σ_h Σ_k P[b, h, k, t]`, the cross-attention probability of token
    /// `t` averaged over heads and latent queries. Every token of a layout is real, so each row
    /// sums to 1 (the window padding past `T` carries 0 and is not returned). Sum it per neuron
    /// with `Tokenizer.neuronAttention(_:batch:)`.
    ///
    /// - Parameters:
    ///   - genomes: `B` genomes of `tokenizer`'s layout, end to end.
    ///   - batch: `B`.
    ///   - tokenizer: the layout's tokenizer (its `tokenValues` must be the config's `C`).
    /// - Returns: `[B, T]`, tokens in `tokenizer`'s order.
    public func tokenAttention(genomes: [Float], batch B: Int, tokenizer: Tokenizer) -> [Float] {
        let T = tokenizer.tokenCount
        var result = [Float](repeating: 0, count: B * T)
        result.withUnsafeMutableBufferPointer { out in
            encodeInGroups(genomes: genomes, batch: B, tokenizer: tokenizer) { start, _ in
                tokenAttention(out.baseAddress! + start * T)
            }
        }
        return result
    }
}
