/// Offsets of every activation of the autoencoder for one batch shape `(B, T)`.
struct ActivationPlan {
    /// What the plan holds activations for.
    enum Mode: Equatable {
        /// Encoder only.
        case encode
        /// Decoder only.
        case decode
        /// Encoder then decoder on the same tokens, kept for a backward pass.
        case training
    }

    /// Offsets of the encoder's activations.
    struct Encoder {
        /// `T` rounded up to whole windows.
        let paddedTokens: Int
        /// Tokens per self-attention window (`min(W, T)`).
        let window: Int
        /// Zero-padded copies of the inputs: tokens `(B, Tp, C)`, mask `(B, Tp)`, positions `(B, Tp, F)`.
        let tokens: Int, mask: Int, positions: Int
        /// Fourier features `(B, Tp, E)`.
        let fourier: Int
        /// Value embedding, position embedding and their sum, each `(B, Tp, d)`.
        let valueEmbedding: Int, positionEmbedding: Int, embedding: Int
        let tokenBlocks: [AttentionBlock.Activations]
        /// The learned queries broadcast over the batch, `(B, K, d)`.
        let latentQueries: Int
        let cross: AttentionBlock.Activations
        let latentBlocks: [AttentionBlock.Activations]
        /// Final layer norm `(B, K, d)` and its statistics `(B, K)`.
        let norm: Int, normMean: Int, normRstd: Int
    }

    /// Offsets of the decoder's activations.
    struct Decoder {
        /// Fourier features `(B, T, E)`.
        let fourier: Int
        /// `z W_hᵀ + b_h`, the latent-slot table broadcast, and their sum, each `(B, K, d)`.
        let fromLatent: Int, latentPosition: Int, latentInput: Int
        let latentBlocks: [AttentionBlock.Activations]
        /// Token queries `(B, T, d)`.
        let queries: Int
        let cross: AttentionBlock.Activations
        /// Final layer norm `(B, T, d)` and its statistics `(B, T)`.
        let norm: Int, normMean: Int, normRstd: Int
        /// Decoded token values `(B, T, C)`.
        let decoded: Int
    }

    let mode: Mode
    let batch: Int
    let tokens: Int
    /// The latents `(B, K, d_z)`: the encoder's output and the decoder's input.
    let latent: Int
    let encoder: Encoder?
    let decoder: Decoder?
    /// Workspace of the attention backward pass: the largest `queries · keys`.
    let scratch: Int
    /// Floats used.
    let count: Int
}
