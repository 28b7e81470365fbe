import Kernels

@testable import MetaLearning

/// A tiny configuration for finite-difference checks: every kind of block is present, and the
/// window (3) does not divide the token count, so the padding path runs too.
func tinyConfig() -> MetaLearnerConfig {
    var config = MetaLearnerConfig()
    config.tokenValues = 4
    config.width = 8
    config.heads = 2
    config.mlpRatio = 2
    config.tokenMlpRatio = 1
    config.encoderTokenLayers = 1
    config.window = 3
    config.encoderLatentLayers = 1
    config.decoderLatentLayers = 1
    config.latents = 2
    config.latentWidth = 3
    config.fourierFrequencies = 2
    config.fitnessHidden = 4
    return config
}

/// Random tokens, a mask and position features for `B` genomes of `T` tokens; genome `b` has
/// `T − b` real tokens.
struct TokenBatch {
    let B: Int, T: Int
    var tokens: [Float], mask: [Float], positions: [Float]

    init(config: MetaLearnerConfig, B: Int, T: Int, seed: UInt64 = 1) {
        self.B = B
        self.T = T
        var random = RandomStream(seed: seed, purpose: "test tokens")
        let C = config.tokenValues
        let F = config.positionFeatures
        tokens = (0..<B * T * C).map { _ in Float(random.gaussian()) }
        mask = (0..<B * T).map { Float($0 % T < T - $0 / T ? 1 : 0) }
        positions = (0..<B * T * F).map { _ in random.uniformFloat() }
    }
}

extension AttentionAutoencoder {
    /// Runs the training forward pass on `batch`.
    func forward(_ batch: TokenBatch) {
        batch.tokens.withUnsafeBufferPointer { t in
            batch.mask.withUnsafeBufferPointer { m in
                batch.positions.withUnsafeBufferPointer { p in
                    forward(
                        tokens: t.baseAddress!, mask: m.baseAddress!, positions: p.baseAddress!, batch: batch.B,
                        tokenCount: batch.T)
                }
            }
        }
    }

    func encode(_ batch: TokenBatch) {
        batch.tokens.withUnsafeBufferPointer { t in
            batch.mask.withUnsafeBufferPointer { m in
                batch.positions.withUnsafeBufferPointer { p in
                    encode(
                        tokens: t.baseAddress!, mask: m.baseAddress!, positions: p.baseAddress!, batch: batch.B,
                        tokenCount: batch.T)
                }
            }
        }
    }
}
