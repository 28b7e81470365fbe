import Kernels
import Networks
import Testing

@testable import MetaLearning

@Suite struct TokenizerTests {
    static let specs: [(String, NetworkSpec)] = [
        ("mlp 64-32-10", .mlp([64, 32, 10])),
        ("mlp 5-3-7-2", .mlp([5, 3, 7, 2])),
        (
            "mlp without biases",
            NetworkSpec(
                input: [6], layers: [.linear(out: 4, bias: false), .activation(.relu), .linear(out: 3, bias: true)])
        ),
        (
            "conv",
            NetworkSpec(
                input: [2, 6, 6],
                layers: [
                    .conv2d(outChannels: 3, kernel: 3, stride: 1, padding: 1), .activation(.relu),
                    .conv2d(outChannels: 5, kernel: 2, stride: 2, padding: 0), .flatten, .linear(out: 4, bias: true),
                ])
        ),
    ]

    @Test(arguments: [1, 3, 4, 32])
    func roundTripIsBitExact(tokenValues: Int) throws {
        for (name, spec) in Self.specs {
            let layout = try ParameterLayout(spec: spec)
            let tokenizer = Tokenizer(layout: layout, tokenValues: tokenValues)
            let n = layout.parameterCount
            let B = 3
            var random = RandomStream(seed: 4, purpose: "tokenizer genomes")
            let genomes = (0..<B * n).map { _ in Float(random.gaussian()) }
            let tokens = tokenizer.tokenize(genomes, batch: B)
            #expect(tokens.count == B * tokenizer.tokenCount * tokenValues)
            let back = tokenizer.detokenize(tokens, batch: B)
            #expect(back.map(\.bitPattern) == genomes.map(\.bitPattern), "\(name), C = \(tokenValues)")
            // every genome index is held by exactly one slot; padding slots are zero
            var seen = [Int](repeating: 0, count: n)
            for s in tokenizer.sources where s >= 0 { seen[Int(s)] += 1 }
            #expect(seen.allSatisfy { $0 == 1 }, "\(name): a parameter lost or duplicated")
            for (k, s) in tokenizer.sources.enumerated() where s < 0 { #expect(tokens[k] == 0) }
        }
    }

    @Test func tokensFollowNeuronRowsAndBiases() throws {
        // mlp 5-3-2 with C = 4: layer 0 rows of 5 weights + bias = 6 values → 2 chunks per neuron
        let layout = try ParameterLayout(spec: .mlp([5, 3, 2]))
        let tokenizer = Tokenizer(layout: layout, tokenValues: 4)
        #expect(tokenizer.tokenCount == 3 * 2 + 2 * 1)
        let w0 = layout.tensor(named: "0.weight")!.offset
        let b0 = layout.tensor(named: "0.bias")!.offset
        // neuron 1 of layer 0: tokens 2 and 3
        #expect(
            Array(tokenizer.sources[8..<16])
                == [w0 + 5, w0 + 6, w0 + 7, w0 + 8, w0 + 9, b0 + 1, -1, -1].map { Int32($0) })
        let F = TokenPositionFeature.allCases.count
        let token3 = Array(tokenizer.positions[3 * F..<4 * F])
        #expect(token3 == [0, 0, 0.5, 0.75, 0])
        let last = Array(tokenizer.positions[7 * F..<8 * F])
        #expect(last == [1 / 16, 1, 0.75, 0.5, 0])
    }

    @Test func conversionOfThreeHundredThousandWeights() throws {
        let layout = try ParameterLayout(spec: .mlp([64, 512, 512, 10]))
        let tokenizer = Tokenizer(layout: layout, tokenValues: 32)
        #expect(layout.parameterCount == 301_066)
        #expect(tokenizer.tokenCount == 512 * 3 + 512 * 17 + 10 * 17)
        var genome = [Float](repeating: 0, count: layout.parameterCount)
        for i in genome.indices { genome[i] = Float(i) }
        #expect(tokenizer.detokenize(tokenizer.tokenize(genome, batch: 1), batch: 1) == genome)
    }

    @Test func adjointOfDetokenize() throws {
        // ⟨detokenize(t), g⟩ = ⟨t, detokenizeᵀ(g)⟩ on real slots
        let layout = try ParameterLayout(spec: .mlp([5, 3, 2]))
        let tokenizer = Tokenizer(layout: layout, tokenValues: 4)
        var random = RandomStream(seed: 7, purpose: "adjoint")
        let S = tokenizer.tokenCount * 4
        let n = layout.parameterCount
        var tokens = (0..<2 * S).map { _ in Float(random.gaussian()) }
        for (k, s) in tokenizer.sources.enumerated() where s < 0 {
            tokens[k] = 0
            tokens[S + k] = 0
        }
        let g = (0..<2 * n).map { _ in Float(random.gaussian()) }
        let left = zip(tokenizer.detokenize(tokens, batch: 2), g).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        var dTokens = [Float](repeating: 0, count: 2 * S)
        g.withUnsafeBufferPointer { gp in
            dTokens.withUnsafeMutableBufferPointer {
                tokenizer.detokenizeBackward($0.baseAddress!, dGenomes: gp.baseAddress!, batch: 2)
            }
        }
        let right = zip(tokens, dTokens).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(left - right) < 1e-4)
    }
}
