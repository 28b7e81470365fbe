extension AttentionAutoencoder {
    /// Latents of genomes: `[B·n]` → `[B·K·d_z]`.
    ///
    /// Genomes are encoded in groups of at most `decodeTokenBudget / T`, so memory stays bounded.
    ///
    /// - Parameters:
    ///   - genomes: `B` genomes of `tokenizer`'s layout, end to end.
    ///   - batch: `B`.
    ///   - tokenizer: the layout's tokenizer (its `tokenValues` must be the config's `C`).
    public func encode(genomes: [Float], batch B: Int, tokenizer: Tokenizer) -> [Float] {
        var result = [Float]()
        result.reserveCapacity(B * config.latentSize)
        encodeInGroups(genomes: genomes, batch: B, tokenizer: tokenizer) { _, _ in result += latents }
        return result
    }

    /// Encodes `genomes` in groups of at most `decodeTokenBudget / T` (at least one) and calls
    /// `body(start, count)` after each group, while the activations hold genomes
    /// `start ..< start + count`.
    func encodeInGroups(
        genomes: [Float], batch B: Int, tokenizer: Tokenizer, _ body: (_ start: Int, _ count: Int) -> Void
    ) {
        precondition(
            tokenizer.tokenValues == config.tokenValues,
            "tokenizer has C = \(tokenizer.tokenValues), the model \(config.tokenValues)")
        let n = tokenizer.parameterCount
        let T = tokenizer.tokenCount
        precondition(genomes.count == B * n, "genomes hold \(genomes.count) values, need B·n = \(B * n)")
        // in groups of genomes within the token-row budget, as `decode`
        let group = max(1, min(B, decodeTokenBudget / T))
        let positions = tokenizer.batchPositions(group)
        let mask = tokenizer.batchMask(group)
        for start in stride(from: 0, to: B, by: group) {
            let count = min(group, B - start)
            let tokens = tokenizer.tokenize(Array(genomes[start * n..<(start + count) * n]), batch: count)
            tokens.withUnsafeBufferPointer { t in
                mask.withUnsafeBufferPointer { k in
                    positions.withUnsafeBufferPointer { p in
                        encode(
                            tokens: t.baseAddress!, mask: k.baseAddress!, positions: p.baseAddress!, batch: count,
                            tokenCount: T)
                    }
                }
            }
            body(start, count)
        }
    }

    /// Genomes of latents: `[B·K·d_z]` → `[B·n]` of `tokenizer`'s layout.
    public func decode(latents given: [Float], batch B: Int, tokenizer: Tokenizer) -> [Float] {
        precondition(
            tokenizer.tokenValues == config.tokenValues,
            "tokenizer has C = \(tokenizer.tokenValues), the model \(config.tokenValues)")
        precondition(
            given.count == B * config.latentSize,
            "latents hold \(given.count) values, need B·K·d_z = \(B * config.latentSize)")
        let positions = tokenizer.batchPositions(B)
        given.withUnsafeBufferPointer { z in
            positions.withUnsafeBufferPointer { p in
                decode(latents: z.baseAddress!, positions: p.baseAddress!, batch: B, tokenCount: tokenizer.tokenCount)
            }
        }
        var genomes = [Float](repeating: 0, count: B * tokenizer.parameterCount)
        genomes.withUnsafeMutableBufferPointer {
            tokenizer.detokenize($0.baseAddress!, tokens: decoded.baseAddress!, batch: B)
        }
        return genomes
    }

    /// `decode(encode(g))`: what the GA gets back for a genome.
    public func reconstruct(genomes: [Float], batch B: Int, tokenizer: Tokenizer) -> [Float] {
        decode(latents: encode(genomes: genomes, batch: B, tokenizer: tokenizer), batch: B, tokenizer: tokenizer)
    }
}
