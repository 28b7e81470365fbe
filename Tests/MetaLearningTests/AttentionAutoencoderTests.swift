import Foundation
import Kernels
import Testing

@testable import MetaLearning

@Suite struct AttentionAutoencoderTests {
    /// Every parameter's gradient, from a loss on the decoded tokens and on the fitness head's
    /// prediction (through the latent), against central finite differences.
    ///
    /// `loss = Σ decoded ⊙ R + Σ ŷ ⊙ S` for fixed random `R`, `S`. Float32 forward, loss summed in
    /// Double, `ε = 3e−2` (float32 rounding of the loss, about 1e−6, over `2ε` stays near 1e−5,
    /// and the curvature error at this `ε` is below 1 %): the check is on the relative error of the
    /// whole sampled gradient vector of each tensor, with gradient norms below 1e−2 compared in
    /// absolute terms. Key biases have an exactly zero gradient (softmax ignores a
    /// score shift `q·b_k` shared by all keys), which is checked on its own.
    @Test func gradientsMatchFiniteDifferences() throws {
        let config = tinyConfig()
        let model = try AttentionAutoencoder(config: config, seed: 11)
        let batch = TokenBatch(config: config, B: 2, T: 5)
        var random = RandomStream(seed: 5, purpose: "loss weights")
        let dDecoded = (0..<batch.B * batch.T * config.tokenValues).map { _ in Float(random.gaussian()) }
        let dPredictions = (0..<batch.B).map { _ in Float(random.gaussian()) }

        func loss() -> Double {
            model.forward(batch)
            let predictions = model.fitnessHead.forward(latents: model.latents.baseAddress!, batch: batch.B)
            var sum = 0.0
            for (value, weight) in zip(model.decoded, dDecoded) { sum += Double(value) * Double(weight) }
            for (value, weight) in zip(predictions, dPredictions) { sum += Double(value) * Double(weight) }
            return sum
        }

        model.zeroGradients()
        _ = loss()
        var dLatents = [Float](repeating: 0, count: batch.B * config.latentSize)
        dLatents.withUnsafeMutableBufferPointer { dz in
            dPredictions.withUnsafeBufferPointer {
                model.fitnessHead.backward(dLatents: dz.baseAddress!, dPredictions: $0.baseAddress!)
            }
        }
        dDecoded.withUnsafeBufferPointer { dd in
            dLatents.withUnsafeBufferPointer { model.backward(dDecoded: dd.baseAddress!, dLatents: $0.baseAddress!) }
        }
        let analytic = Array(model.gradients)

        let eps: Float = 3e-2
        var sampler = RandomStream(seed: 9, purpose: "sampled parameters")
        var worst = (name: "", error: 0.0)
        for entry in model.parameterTable.entries {
            var difference = 0.0
            var analyticNorm = 0.0
            var numericNorm = 0.0
            for _ in 0..<min(entry.count, 6) {
                let i = entry.offset + sampler.below(entry.count)
                let saved = model.parameters[i]
                model.parameters[i] = saved + eps
                let plus = loss()
                model.parameters[i] = saved - eps
                let minus = loss()
                model.parameters[i] = saved
                let numeric = (plus - minus) / (2 * Double(eps))
                difference += (numeric - Double(analytic[i])) * (numeric - Double(analytic[i]))
                analyticNorm += Double(analytic[i]) * Double(analytic[i])
                numericNorm += numeric * numeric
            }
            let scale = max(analyticNorm.squareRoot(), numericNorm.squareRoot())
            let error = difference.squareRoot() / max(scale, 1e-2)
            if error > worst.error { worst = (entry.name, error) }
            #expect(error < 2e-2, "\(entry.name): relative error \(error), gradient norm \(scale)")
        }
        for entry in model.parameterTable.entries where entry.name.hasSuffix("attention.key.bias") {
            let largest = analytic[entry.offset..<entry.offset + entry.count].map { abs($0) }.max()!
            #expect(largest < 1e-5, "\(entry.name) should have a zero gradient, got \(largest)")
        }
        print("largest relative gradient error \(worst.error) in \(worst.name)")
    }

    @Test func paddedTokensDoNotChangeTheLatent() throws {
        let config = tinyConfig()
        let model = try AttentionAutoencoder(config: config, seed: 2)
        var batch = TokenBatch(config: config, B: 2, T: 5)
        model.encode(batch)
        let before = Array(model.latents)
        // genome 1 has 4 real tokens: change its last (padded) token and its position features
        for c in 0..<config.tokenValues { batch.tokens[(5 + 4) * config.tokenValues + c] = 100 }
        for f in 0..<config.positionFeatures { batch.positions[(5 + 4) * config.positionFeatures + f] = 0.9 }
        model.encode(batch)
        #expect(Array(model.latents) == before)
        // a real token does change it
        batch.tokens[0] += 1
        model.encode(batch)
        #expect(Array(model.latents[0..<config.latentSize]) != Array(before[0..<config.latentSize]))
        #expect(Array(model.latents[config.latentSize...]) == Array(before[config.latentSize...]))
    }

    /// The encoder's token blocks attend within windows: changing a token of the first window
    /// leaves the token-block outputs of the second window unchanged.
    @Test func tokenSelfAttentionStaysWithinItsWindow() throws {
        let config = tinyConfig()  // window 3
        let model = try AttentionAutoencoder(config: config, seed: 7)
        var batch = TokenBatch(config: config, B: 1, T: 6)
        func secondWindowOutput() throws -> [Float] {
            model.encode(batch)
            let block = try #require(model.plan?.encoder?.tokenBlocks.first)
            let start = model.activations.pointer + block.output + 3 * config.width
            return Array(UnsafeBufferPointer(start: start, count: 3 * config.width))
        }
        func firstWindowOutput() throws -> [Float] {
            let block = try #require(model.plan?.encoder?.tokenBlocks.first)
            return Array(UnsafeBufferPointer(start: model.activations.pointer + block.output, count: 3 * config.width))
        }
        let before = try secondWindowOutput()
        let firstBefore = try firstWindowOutput()
        batch.tokens[1 * config.tokenValues] += 1  // token 1, in the first window
        #expect(try secondWindowOutput() == before)
        #expect(try firstWindowOutput() != firstBefore)
    }

    @Test func decodeOfEncodedLatentsEqualsTheTrainingForward() throws {
        let config = tinyConfig()
        let model = try AttentionAutoencoder(config: config, seed: 3)
        let batch = TokenBatch(config: config, B: 3, T: 7)
        model.forward(batch)
        let latents = Array(model.latents)
        let decoded = Array(model.decoded)
        #expect(decoded.count == 3 * 7 * config.tokenValues)
        latents.withUnsafeBufferPointer { z in
            batch.positions.withUnsafeBufferPointer {
                model.decode(latents: z.baseAddress!, positions: $0.baseAddress!, batch: 3, tokenCount: 7)
            }
        }
        #expect(Array(model.decoded) == decoded)
        // decoding the model's own latents straight from its buffer, as the GA re-encodes
        model.encode(batch)
        batch.positions.withUnsafeBufferPointer {
            model.decode(latents: model.latents.baseAddress!, positions: $0.baseAddress!, batch: 3, tokenCount: 7)
        }
        #expect(Array(model.decoded) == decoded)
    }

    @Test func decodingInGroupsGivesTheSameTokens() throws {
        let config = tinyConfig()
        let model = try AttentionAutoencoder(config: config, seed: 3)
        let batch = TokenBatch(config: config, B: 5, T: 7)
        var random = RandomStream(seed: 4, purpose: "latents")
        let latents = (0..<5 * config.latentSize).map { _ in Float(random.gaussian()) }
        func decode() -> [Float] {
            latents.withUnsafeBufferPointer { z in
                batch.positions.withUnsafeBufferPointer {
                    model.decode(latents: z.baseAddress!, positions: $0.baseAddress!, batch: 5, tokenCount: 7)
                }
            }
            return Array(model.decoded)
        }
        let whole = decode()
        model.decodeTokenBudget = 2 * 7  // groups of 2, 2 and 1 genomes
        let grouped = decode()
        #expect(grouped.count == whole.count)
        #expect(worstDifference(grouped, whole) < 1e-6)
    }

    /// Genomes sharing their positions (one layout) take the shortcut that computes the token
    /// queries once; the tokens must match decoding each genome alone.
    @Test func sharedPositionsDecodeAsEachGenomeAlone() throws {
        let config = tinyConfig()
        let model = try AttentionAutoencoder(config: config, seed: 3)
        let single = TokenBatch(config: config, B: 1, T: 7)
        let positions = Array(repeating: single.positions, count: 4).flatMap { $0 }
        var random = RandomStream(seed: 6, purpose: "latents")
        let latents = (0..<4 * config.latentSize).map { _ in Float(random.gaussian()) }
        latents.withUnsafeBufferPointer { z in
            positions.withUnsafeBufferPointer {
                model.decode(latents: z.baseAddress!, positions: $0.baseAddress!, batch: 4, tokenCount: 7)
            }
        }
        let together = Array(model.decoded)
        var alone: [Float] = []
        for b in 0..<4 {
            latents.withUnsafeBufferPointer { z in
                single.positions.withUnsafeBufferPointer {
                    model.decode(
                        latents: z.baseAddress! + b * config.latentSize, positions: $0.baseAddress!, batch: 1,
                        tokenCount: 7)
                }
            }
            alone += model.decoded
        }
        #expect(worstDifference(together, alone) < 1e-6)
    }

    @Test func oneModelServesGenomesOfAnyLength() throws {
        let config = MetaLearnerConfig()
        let model = try AttentionAutoencoder(config: config, seed: 4)
        let count = model.parameterTable.count
        for T in [3, 84, 200] {
            let batch = TokenBatch(config: config, B: 2, T: T)
            model.forward(batch)
            #expect(model.latents.count == 2 * config.latentSize)
            #expect(model.decoded.count == 2 * T * config.tokenValues)
            #expect(model.decoded.allSatisfy { $0.isFinite })
        }
        #expect(model.parameterTable.count == count)
        #expect(model.parameters.count == count)
    }

    @Test func parameterTableIsContiguousWithUniqueNames() throws {
        let model = try AttentionAutoencoder(config: tinyConfig(), seed: 1)
        var next = 0
        for entry in model.parameterTable.entries {
            #expect(entry.offset == next)
            next += entry.count
            #expect(model.parameterTable[entry.name] == entry)
        }
        #expect(next == model.parameterTable.count)
        #expect(Set(model.parameterTable.entries.map(\.name)).count == model.parameterTable.entries.count)
        #expect(model.parameterTable["encoder.embed.weight"]?.shape == [8, 4])
        #expect(model.parameterTable["decoder.output.weight"]?.shape == [4, 8])
        #expect(model.parameterTable["head.fc2.bias"]?.shape == [1])
    }

    @Test func sameSeedSameParameters() throws {
        let a = try AttentionAutoencoder(config: tinyConfig(), seed: 8)
        let b = try AttentionAutoencoder(config: tinyConfig(), seed: 8)
        let c = try AttentionAutoencoder(config: tinyConfig(), seed: 9)
        #expect(Array(a.parameters) == Array(b.parameters))
        #expect(Array(a.parameters) != Array(c.parameters))
    }

    /// A few AdamW steps on the reconstruction MSE of one small batch lower it.
    @Test func adamWStepsReduceReconstructionError() throws {
        let config = tinyConfig()
        let model = try AttentionAutoencoder(config: config, seed: 6)
        let batch = TokenBatch(config: config, B: 2, T: 5)
        let n = model.parameters.count
        var m = [Float](repeating: 0, count: n)
        var v = [Float](repeating: 0, count: n)
        let settings = AdamWSettings(weightDecay: 0)
        func meanSquaredError() -> (Double, [Float]) {
            model.forward(batch)
            var sum = 0.0
            var gradient = [Float](repeating: 0, count: batch.tokens.count)
            for i in batch.tokens.indices {
                let difference = model.decoded[i] - batch.tokens[i]
                sum += Double(difference * difference)
                gradient[i] = 2 * difference / Float(batch.tokens.count)
            }
            return (sum / Double(batch.tokens.count), gradient)
        }
        let (initial, _) = meanSquaredError()
        for step in 1...30 {
            model.zeroGradients()
            let (_, gradient) = meanSquaredError()
            gradient.withUnsafeBufferPointer { model.backward(dDecoded: $0.baseAddress!, dLatents: nil) }
            clipGradientsByGlobalNorm(model.gradients.baseAddress!, n, maxNorm: 1)
            m.withUnsafeMutableBufferPointer { mp in
                v.withUnsafeMutableBufferPointer { vp in
                    adamWUpdate(
                        model.parameters.baseAddress!, model.gradients.baseAddress!, mp.baseAddress!, vp.baseAddress!,
                        n,
                        learningRate: 1e-2, settings: settings, weightDecay: 0, step: step)
                }
            }
        }
        let (final, _) = meanSquaredError()
        #expect(final < 0.5 * initial, "MSE \(initial) → \(final)")
    }
}

/// Largest absolute difference between two equally long arrays.
func worstDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
