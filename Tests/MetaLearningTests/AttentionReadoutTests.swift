import Foundation
import Kernels
import Networks
import Testing

@testable import MetaLearning

/// The encoder's token attention (`AttentionAutoencoder.tokenAttention`) and the tokenizer's
/// neuron maps that turn it into neuron importance.
@Suite struct AttentionReadoutTests {
    /// A tiny model (window 3) whose cross-attention layer norms and biases are moved off their
    /// initial 1 and 0, so the reference below exercises them.
    static func model(seed: UInt64) throws -> AttentionAutoencoder {
        let model = try AttentionAutoencoder(config: tinyConfig(), seed: seed)
        var random = RandomStream(seed: seed, purpose: "cross perturbation")
        for suffix in [
            "norm1.weight", "norm1.bias", "contextNorm.weight", "contextNorm.bias", "attention.query.bias",
            "attention.key.bias",
        ] {
            let entry = model.parameterTable["encoder.cross.\(suffix)"]!
            for i in entry.offset..<entry.offset + entry.count { model.parameters[i] += 0.3 * Float(random.gaussian()) }
        }
        return model
    }

    /// `(1/(H·K)) Σ_h Σ_k softmax_t(q_{h,k} · k_{h,t} / √hs + mask_t)` for every genome of the last
    /// encode, in Double, from the model's parameters (by name) and the stored output of the last
    /// token block (the cross-attention's context). `real(b, t)` says whether token `t < T` of
    /// genome `b` is real; the window padding past `T` is always masked.
    static func reference(_ model: AttentionAutoencoder, real: (Int, Int) -> Bool) throws -> [Double] {
        let plan = try #require(model.plan)
        let e = try #require(plan.encoder)
        let config = model.config
        let B = plan.batch
        let T = plan.tokens
        let Tp = e.paddedTokens
        let K = config.latents
        let d = config.width
        let H = config.heads
        let hs = d / H
        let p = model.parameters
        func tensor(_ name: String) -> [Double] {
            let entry = model.parameterTable[name]!
            return p[entry.offset..<entry.offset + entry.count].map(Double.init)
        }
        func layerNorm(_ x: [Double], _ weight: [Double], _ bias: [Double]) -> [Double] {
            let mean = x.reduce(0, +) / Double(d)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
            let r = 1 / (variance + 1e-5).squareRoot()
            return (0..<d).map { (x[$0] - mean) * r * weight[$0] + bias[$0] }
        }
        func linear(_ x: [Double], _ weight: [Double], _ bias: [Double]) -> [Double] {
            (0..<d).map { o in bias[o] + (0..<d).reduce(0.0) { $0 + weight[o * d + $1] * x[$1] } }
        }
        let latentQueries = tensor("encoder.latentQueries")
        let norm1 = (tensor("encoder.cross.norm1.weight"), tensor("encoder.cross.norm1.bias"))
        let contextNorm = (tensor("encoder.cross.contextNorm.weight"), tensor("encoder.cross.contextNorm.bias"))
        let query = (tensor("encoder.cross.attention.query.weight"), tensor("encoder.cross.attention.query.bias"))
        let key = (tensor("encoder.cross.attention.key.weight"), tensor("encoder.cross.attention.key.bias"))
        let queries = (0..<K).map { k in
            linear(layerNorm(Array(latentQueries[k * d..<(k + 1) * d]), norm1.0, norm1.1), query.0, query.1)
        }
        let context = try #require(e.tokenBlocks.last).output
        var out = [Double](repeating: 0, count: B * T)
        for b in 0..<B {
            let keys = (0..<Tp).map { t in
                let x = (0..<d).map { Double(model.activations.pointer[context + (b * Tp + t) * d + $0]) }
                return linear(layerNorm(x, contextNorm.0, contextNorm.1), key.0, key.1)
            }
            for h in 0..<H {
                for k in 0..<K {
                    let scores = (0..<Tp).map { t -> Double in
                        guard t < T, real(b, t) else { return -.infinity }
                        return (h * hs..<(h + 1) * hs).reduce(0.0) { $0 + queries[k][$1] * keys[t][$1] }
                            / Double(hs).squareRoot()
                    }
                    let largest = scores.max()!
                    let weights = scores.map { $0 == -.infinity ? 0 : exp($0 - largest) }
                    let total = weights.reduce(0, +)
                    for t in 0..<T { out[b * T + t] += weights[t] / total / Double(H * K) }
                }
            }
        }
        return out
    }

    /// A model of `seed`, a batch of 3 genomes of 5 tokens encoded by it, and its read-out `[3 × 5]`.
    static func readout(seed: UInt64) throws -> (AttentionAutoencoder, TokenBatch, [Float]) {
        let model = try Self.model(seed: seed)
        let batch = TokenBatch(config: model.config, B: 3, T: 5)
        model.encode(batch)
        var attention = [Float](repeating: .nan, count: 3 * 5)
        attention.withUnsafeMutableBufferPointer { model.tokenAttention($0.baseAddress!) }
        return (model, batch, attention)
    }

    /// Genomes with masked tokens (genome `b` of the batch has `5 − b` real tokens) and window
    /// padding (`T = 5`, window 3): each row sums to 1 over the real tokens, masked tokens get
    /// exactly 0, real ones more than 0.
    @Test func rowsAreDistributionsOverRealTokens() throws {
        let (_, batch, attention) = try Self.readout(seed: 21)
        for b in 0..<3 {
            var sum = 0.0
            for t in 0..<5 {
                let value = attention[b * 5 + t]
                if batch.mask[b * 5 + t] == 0 {
                    #expect(value == 0, "genome \(b), masked token \(t) has attention \(value)")
                } else {
                    #expect(value > 0, "genome \(b), token \(t)")
                }
                sum += Double(value)
            }
            #expect(abs(sum - 1) < 1e-5, "genome \(b): attention sums to \(sum)")
        }
    }

    /// The read-out equals softmax(q·kᵀ/√hs + mask) averaged over heads and latent queries,
    /// recomputed in Double from the parameters and the stored token-block output; the attention is
    /// far from uniform, so a read-out along the wrong axes would not match.
    @Test func matchesDoublePrecisionRecomputation() throws {
        let (model, batch, attention) = try Self.readout(seed: 22)
        let expected = try Self.reference(model) { b, t in batch.mask[b * 5 + t] != 0 }
        let worst = zip(attention, expected).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 2e-6, "largest difference \(worst)")
        // genome 0 has 5 real tokens: its attention is not uniform (1/5 each)
        let spread = (0..<5).map { abs(expected[$0] - 0.2) }.max()!
        #expect(spread > 1e-2, "attention nearly uniform (\(spread)): the check would be weak")
    }

    /// On genomes of a layout (mlp 5-3-2, C = 4: T = 8 tokens, padded to 9 for windows of 3): rows
    /// sum to 1, encoding in groups of one genome gives the rows of the whole batch, and the last
    /// group's rows match the Double recomputation.
    @Test func genomeReadoutFollowsTheEncodeGroups() throws {
        let model = try Self.model(seed: 23)
        let tokenizer = Tokenizer(layout: try ParameterLayout(spec: .mlp([5, 3, 2])), tokenValues: 4)
        let B = 3
        let T = tokenizer.tokenCount
        let n = tokenizer.parameterCount
        #expect(T == 8)
        var random = RandomStream(seed: 3, purpose: "readout genomes")
        let genomes = (0..<B * n).map { _ in Float(random.gaussian()) }
        let whole = model.tokenAttention(genomes: genomes, batch: B, tokenizer: tokenizer)
        #expect(whole.count == B * T)
        for b in 0..<B {
            let sum = whole[b * T..<(b + 1) * T].reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - 1) < 1e-5, "genome \(b): attention sums to \(sum)")
            #expect(whole[b * T..<(b + 1) * T].allSatisfy { $0 > 0 })
        }
        let encoded = model.encode(genomes: genomes, batch: B, tokenizer: tokenizer)
        let Z = model.config.latentSize
        model.decodeTokenBudget = T  // groups of one genome
        let grouped = model.tokenAttention(genomes: genomes, batch: B, tokenizer: tokenizer)
        #expect(worstDifference(grouped, whole) < 1e-6)
        #expect(model.plan?.batch == 1)
        let last = try Self.reference(model) { _, _ in true }
        let worst = zip(grouped[(B - 1) * T..<B * T], last).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 2e-6, "last genome: largest difference \(worst)")
        // the read-out leaves the last group's latents as encode(genomes:) does
        #expect(worstDifference(Array(model.latents), Array(encoded[(B - 1) * Z..<B * Z])) < 1e-5)
    }

    /// Every genome index belongs to exactly one neuron, the neuron's genes are its weight row and
    /// bias, and the maps agree with `sources` slot by slot.
    @Test(arguments: [1, 3, 4])
    func neuronMapsCoverEveryGeneOnce(tokenValues C: Int) throws {
        for (name, spec) in TokenizerTests.specs {
            let layout = try ParameterLayout(spec: spec)
            let tokenizer = Tokenizer(layout: layout, tokenValues: C)
            let n = layout.parameterCount
            let T = tokenizer.tokenCount
            let N = tokenizer.neuronCount
            let weights = layout.tensors.filter { !$0.isBias }
            #expect(N == weights.reduce(0) { $0 + $1.shape[0] }, "\(name)")
            #expect(
                tokenizer.neuronTokenStarts.count == N + 1 && tokenizer.neuronTokenStarts.first == 0
                    && tokenizer.neuronTokenStarts.last == Int32(T))
            #expect(tokenizer.tokenNeurons.count == T && tokenizer.geneNeurons.count == n)
            // the expected genes of every neuron, from the layout alone
            var expected: [[Int32]] = []
            for weight in weights {
                let bias = layout.tensors.first { $0.isBias && $0.layerIndex == weight.layerIndex }
                let fanIn = weight.count / weight.shape[0]
                for i in 0..<weight.shape[0] {
                    expected.append(
                        (0..<fanIn).map { Int32(weight.offset + i * fanIn + $0) }
                            + (bias.map { [Int32($0.offset + i)] } ?? []))
                }
            }
            var seen = [Int](repeating: 0, count: n)
            for i in 0..<N {
                let genes = tokenizer.neuronGenes(i)
                #expect(genes == expected[i], "\(name), C = \(C): neuron \(i)")
                #expect(!tokenizer.neuronTokens(i).isEmpty)
                for t in tokenizer.neuronTokens(i) { #expect(tokenizer.tokenNeurons[t] == Int32(i)) }
                for g in genes {
                    seen[Int(g)] += 1
                    #expect(tokenizer.geneNeurons[Int(g)] == Int32(i))
                }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "\(name), C = \(C): a gene in no neuron or in two")
            for (k, s) in tokenizer.sources.enumerated() where s >= 0 {
                #expect(tokenizer.geneNeurons[Int(s)] == tokenizer.tokenNeurons[k / C], "\(name), C = \(C): slot \(k)")
            }
        }
    }

    /// mlp 5-3-2 with C = 4: layer 0's neurons own two tokens each (5 weights + bias), layer 1's
    /// one (3 weights + bias); a neuron's importance is the sum of its tokens' attention.
    @Test func neuronAttentionSumsTheNeuronsTokens() throws {
        let tokenizer = Tokenizer(layout: try ParameterLayout(spec: .mlp([5, 3, 2])), tokenValues: 4)
        #expect(tokenizer.neuronCount == 5)
        #expect(tokenizer.tokenNeurons == [0, 0, 1, 1, 2, 2, 3, 4])
        let tokenAttention: [Float] = [
            0.1, 0.2, 0.05, 0.05, 0.3, 0.1, 0.15, 0.05,
            0.0, 0.5, 0.0, 0.25, 0.0, 0.0, 0.125, 0.125,
        ]
        let neurons = tokenizer.neuronAttention(tokenAttention, batch: 2)
        let expected: [Float] = [
            0.1 + 0.2, 0.05 + 0.05, 0.3 + 0.1, 0.15, 0.05,
            0.5, 0.25, 0, 0.125, 0.125,
        ]
        #expect(worstDifference(neurons, expected) < 1e-7)
        // on the model's read-out, neuron importance keeps the rows' total of 1
        let model = try Self.model(seed: 24)
        var random = RandomStream(seed: 5, purpose: "readout genomes")
        let genomes = (0..<2 * tokenizer.parameterCount).map { _ in Float(random.gaussian()) }
        let importance = tokenizer.neuronAttention(
            model.tokenAttention(genomes: genomes, batch: 2, tokenizer: tokenizer), batch: 2)
        #expect(importance.count == 2 * 5)
        for b in 0..<2 { #expect(abs(importance[b * 5..<(b + 1) * 5].reduce(0, +) - 1) < 1e-5) }
    }
}
