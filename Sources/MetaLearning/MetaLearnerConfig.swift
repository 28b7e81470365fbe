/// The sizes of the attention autoencoder and its fitness head.
///
/// Shape letters: `C` = values per token, `d` = model width, `K` = latents, `d_z` = latent width,
/// `F` = raw position features per token, `L` = Fourier frequencies. No size depends on the length
/// of a genome: one model encodes networks of any size. Decoding from YAML or JSON: every field
/// has a default, and an unknown key is an error that names it.
public struct MetaLearnerConfig: Codable, Equatable, Sendable {
    /// `C`: weight values per token (a neuron's weight row and bias are cut into chunks of `C`).
    public var tokenValues = 32
    /// `d`: width of the token and latent embeddings.
    public var width = 64
    /// Attention heads; `width` must be a multiple of it.
    public var heads = 4
    /// Hidden width of the MLPs of the blocks over the `K` latents, as a multiple of `width`.
    public var mlpRatio = 4
    /// Hidden width of the MLPs of the blocks whose rows are tokens (the encoder's windowed token
    /// blocks and the decoder's token cross-attention), as a multiple of `width`. These run once
    /// per token, and their MLP is most of the decoder's cost per token (`2·ratio·d²` of about
    /// `(5 + 2·ratio)·d²` multiply-adds), so it is kept smaller than `mlpRatio`: decoding must stay
    /// cheaper than evaluating the decoded networks.
    public var tokenMlpRatio = 2
    /// Windowed self-attention blocks over the tokens before pooling (0: none).
    public var encoderTokenLayers = 1
    /// Tokens per self-attention window in the encoder's token blocks (consecutive, non-overlapping).
    public var window = 16
    /// Self-attention blocks among the `K` latents in the encoder, after the cross-attention.
    public var encoderLatentLayers = 2
    /// Self-attention blocks among the `K` latents in the decoder, before the token queries.
    public var decoderLatentLayers = 2
    /// `K`: learned latent queries; the latent of a genome is `K × d_z` floats.
    public var latents = 8
    /// `d_z`: width of each latent vector.
    public var latentWidth = 16
    /// `F`: raw position features per token, in the order of `TokenPositionFeature`.
    public var positionFeatures = TokenPositionFeature.allCases.count
    /// `L`: Fourier frequencies per position feature; each feature becomes `1 + 2L` values.
    public var fourierFrequencies = 6
    /// Hidden width of the fitness head.
    public var fitnessHidden = 32

    public init() {}

    /// Floats in one genome's latent: `K · d_z`.
    public var latentSize: Int { latents * latentWidth }
    /// Width of the Fourier-expanded position features: `F · (1 + 2L)`.
    public var fourierWidth: Int { positionFeatures * (1 + 2 * fourierFrequencies) }
    /// Hidden width of the latent blocks' MLPs.
    public var mlpHidden: Int { mlpRatio * width }
    /// Hidden width of the token blocks' MLPs.
    public var tokenMlpHidden: Int { tokenMlpRatio * width }

    /// Checks that every size is usable.
    ///
    /// - Throws: `MetaLearnerConfigError` naming the field and what was expected.
    public func validate() throws {
        let positive: [(String, Int)] = [
            ("tokenValues", tokenValues), ("width", width), ("heads", heads), ("mlpRatio", mlpRatio),
            ("tokenMlpRatio", tokenMlpRatio),
            ("window", window), ("latents", latents), ("latentWidth", latentWidth),
            ("positionFeatures", positionFeatures), ("fitnessHidden", fitnessHidden),
        ]
        for (field, value) in positive where value < 1 {
            throw MetaLearnerConfigError(field: field, message: "expected a positive integer, got \(value)")
        }
        let nonNegative: [(String, Int)] = [
            ("encoderTokenLayers", encoderTokenLayers), ("encoderLatentLayers", encoderLatentLayers),
            ("decoderLatentLayers", decoderLatentLayers), ("fourierFrequencies", fourierFrequencies),
        ]
        for (field, value) in nonNegative where value < 0 {
            throw MetaLearnerConfigError(field: field, message: "expected zero or more, got \(value)")
        }
        if width % heads != 0 {
            throw MetaLearnerConfigError(
                field: "heads", message: "width \(width) must be a multiple of heads, got \(heads)")
        }
        if fourierFrequencies > 20 {
            throw MetaLearnerConfigError(
                field: "fourierFrequencies",
                message: "expected at most 20 (2^20·π is beyond float precision), got \(fourierFrequencies)")
        }
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case tokenValues, width, heads, mlpRatio, tokenMlpRatio, encoderTokenLayers, window, encoderLatentLayers
        case decoderLatentLayers, latents, latentWidth, positionFeatures, fourierFrequencies, fitnessHidden
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        for key in try decoder.container(keyedBy: AnyKey.self).allKeys where !known.contains(key.stringValue) {
            throw MetaLearnerConfigError(
                field: key.stringValue,
                message: "unknown key; expected one of \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = MetaLearnerConfig()
        tokenValues = try c.decodeIfPresent(Int.self, forKey: .tokenValues) ?? defaults.tokenValues
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? defaults.width
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? defaults.heads
        mlpRatio = try c.decodeIfPresent(Int.self, forKey: .mlpRatio) ?? defaults.mlpRatio
        tokenMlpRatio = try c.decodeIfPresent(Int.self, forKey: .tokenMlpRatio) ?? defaults.tokenMlpRatio
        encoderTokenLayers = try c.decodeIfPresent(Int.self, forKey: .encoderTokenLayers) ?? defaults.encoderTokenLayers
        window = try c.decodeIfPresent(Int.self, forKey: .window) ?? defaults.window
        encoderLatentLayers =
            try c.decodeIfPresent(Int.self, forKey: .encoderLatentLayers) ?? defaults.encoderLatentLayers
        decoderLatentLayers =
            try c.decodeIfPresent(Int.self, forKey: .decoderLatentLayers) ?? defaults.decoderLatentLayers
        latents = try c.decodeIfPresent(Int.self, forKey: .latents) ?? defaults.latents
        latentWidth = try c.decodeIfPresent(Int.self, forKey: .latentWidth) ?? defaults.latentWidth
        positionFeatures = try c.decodeIfPresent(Int.self, forKey: .positionFeatures) ?? defaults.positionFeatures
        fourierFrequencies = try c.decodeIfPresent(Int.self, forKey: .fourierFrequencies) ?? defaults.fourierFrequencies
        fitnessHidden = try c.decodeIfPresent(Int.self, forKey: .fitnessHidden) ?? defaults.fitnessHidden
        try validate()
    }
}

/// A configuration value that cannot be used, with the field it concerns.
public struct MetaLearnerConfigError: Error, CustomStringConvertible, Equatable {
    /// The configuration key.
    public let field: String
    /// What was expected and what was found.
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "meta-learner config, field \(field): \(message)" }
}
