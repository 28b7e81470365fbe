// B = genomes, n = parameters per genome, T = tokens per genome, N = neurons.

extension Tokenizer {
    /// The tokens of neuron `neuron`, consecutive in token order.
    public func neuronTokens(_ neuron: Int) -> Range<Int> {
        Int(neuronTokenStarts[neuron])..<Int(neuronTokenStarts[neuron + 1])
    }

    /// The genome indices neuron `neuron` owns, in slot order: its weight row (a conv filter's
    /// `in·kh·kw` weights), then its bias if the layer has one.
    public func neuronGenes(_ neuron: Int) -> [Int32] {
        let tokens = neuronTokens(neuron)
        let C = tokenValues
        return sources[tokens.lowerBound * C..<tokens.upperBound * C].filter { $0 >= 0 }
    }

    /// Per-neuron sums of a per-token quantity, such as the encoder's attention on each token.
    ///
    /// `out[b, i] = Σ_{t : tokenNeurons[t] = i} x[b, t]`. With the encoder's token
    /// attention (rows summing to 1) the neurons' rows sum to 1 too; a neuron of many chunks
    /// collects the mass of all of them.
    ///
    /// x is (B, T); out is (B, N), overwritten.
    public func neuronSums(_ out: UnsafeMutablePointer<Float>, of x: UnsafePointer<Float>, batch B: Int) {
        let T = tokenCount
        let N = neuronCount
        out.update(repeating: 0, count: B * N)
        tokenNeurons.withUnsafeBufferPointer { neuron in
            for b in 0..<B {
                let o = out + b * N
                let xb = x + b * T
                for t in 0..<T { o[Int(neuron[t])] += xb[t] }
            }
        }
    }

    /// Neuron importance from the encoder's token attention: `[B·T]` → `[B·N]`, each neuron the
    /// sum of its tokens' attention (`neuronSums`).
    ///
    /// - Parameters:
    ///   - tokenAttention: `[B, T]`, e.g. from `AttentionAutoencoder.tokenAttention(genomes:batch:tokenizer:)`.
    ///   - batch: `B`.
    /// - Returns: `[B, N]`, neurons in token order (`neuronGenes(i)` are neuron `i`'s genome indices).
    public func neuronAttention(_ tokenAttention: [Float], batch B: Int) -> [Float] {
        precondition(
            tokenAttention.count == B * tokenCount,
            "token attention holds \(tokenAttention.count) values, need B·T = \(B * tokenCount)")
        var out = [Float](repeating: 0, count: B * neuronCount)
        tokenAttention.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { neuronSums($0.baseAddress!, of: a.baseAddress!, batch: B) }
        }
        return out
    }
}
