/// The raw position features of a token, in the order they appear in the `[B, T, F]` position
/// array given to `AttentionAutoencoder` (the `Tokenizer` writes them).
///
/// Each is a number in `[0, 1]` so that its Fourier expansion (`fourierFeaturesForward`: `x`,
/// `sin(2^l πx)`, `cos(2^l πx)` for `l < L`) spans the useful frequencies: with `L = 6` the
/// finest period is 1/32 of the range. Features are relative (fractions of the layer or of the
/// network) so that one model serves networks of any size; the absolute layer index is scaled by
/// `1/maxLayers` to tell networks of different depths apart.
public enum TokenPositionFeature: Int, CaseIterable, Sendable {
    /// `ℓ / 16` for the `ℓ`-th parameterised layer (0-based), clamped to 1.
    case layerIndex
    /// `ℓ / (layers − 1)`, 0 for a single-layer network: 0 at the input, 1 at the output layer.
    case relativeDepth
    /// `(i + ½) / n` for neuron `i` of the `n` output neurons (or conv filters) of its layer.
    case neuronIndex
    /// `(c + ½) / chunks` for chunk `c` of the neuron's `chunks` tokens.
    case chunkIndex
    /// 0 for a linear layer's neuron, 1 for a convolution filter.
    case tensorKind

    /// Scale of `layerIndex`: layers beyond this index share the value 1.
    public static let maxLayers = 16
}
