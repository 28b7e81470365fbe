import Networks

// B = genomes, n = parameters per genome, T = tokens per genome, C = values per token,
// F = raw position features per token, N = neurons (rows of every parameterised layer).

/// Cuts genomes of one `ParameterLayout` into the autoencoder's tokens and puts tokens back
/// together into genomes.
///
/// One token per neuron and chunk: a linear layer's neuron `i` owns the row `weight[i, :]`
/// (`in` values) followed by `bias[i]` when the layer has a bias; a conv filter `o` owns
/// `weight[o, :, :, :]` (`in·kh·kw` values, PyTorch's order) followed by `bias[o]`. The row is cut
/// into `⌈row/C⌉` chunks of `C` values, the last one zero-padded. Tokens follow the layers in order,
/// then the neurons, then the chunks. Every genome value lands in exactly one token slot, so
/// `detokenize(tokenize(g)) == g` bit for bit; padding slots are 0 on the way in and ignored on
/// the way out.
///
/// Both directions are a gather through a precomputed index map `source[t·C + j]` (the genome index
/// held by slot `j` of token `t`, or −1 for padding), built once per layout.
///
/// Neurons are numbered `0 ..< N` in token order (layers, then rows): neuron `i` owns the tokens
/// `neuronTokenStarts[i] ..< neuronTokenStarts[i+1]` and so the genome indices those tokens hold
/// (its weight row and bias); `tokenNeurons` and `geneNeurons` map tokens and genome indices back
/// to their neuron. Every genome index belongs to exactly one neuron.
///
/// Position features (`TokenPositionFeature` order) of token `t`: the parameterised layer's index
/// `ℓ/16` (clamped to 1), its relative depth `ℓ/(L−1)`, the neuron's `(i+½)/n`, the chunk's
/// `(c+½)/chunks`, and 0 for linear, 1 for conv.
public struct Tokenizer: Sendable {
    /// The layout whose genomes this tokenizer handles.
    public let layout: ParameterLayout
    /// `C`: values per token.
    public let tokenValues: Int
    /// `T`: tokens per genome.
    public let tokenCount: Int
    /// `[T, F]` raw position features of every token.
    public let positions: [Float]
    /// `[T·C]` genome index held by each token slot, −1 for padding.
    public let sources: [Int32]
    /// `[T·C]` parameterised-layer number (0, 1, …) of each slot's value, −1 for padding.
    public let slotLayers: [Int32]
    /// Number of parameterised layers (linear and conv2d).
    public let layerCount: Int
    /// `N`: neurons of the layout (a linear layer's output features, a conv layer's filters).
    public let neuronCount: Int
    /// `[N+1]` first token of each neuron, then `T`: neuron `i`'s tokens are
    /// `neuronTokenStarts[i] ..< neuronTokenStarts[i+1]`.
    public let neuronTokenStarts: [Int32]
    /// `[T]` neuron of each token.
    public let tokenNeurons: [Int32]
    /// `[n]` neuron holding each genome index.
    public let geneNeurons: [Int32]

    /// Genome length `n`.
    public var parameterCount: Int { layout.parameterCount }

    /// The tokenizer of `layout` with `tokenValues` values per token.
    ///
    /// - Parameters:
    ///   - layout: the network's parameter layout.
    ///   - tokenValues: `C`, at least 1.
    public init(layout: ParameterLayout, tokenValues C: Int) {
        precondition(C >= 1, "a token needs at least one value")
        self.layout = layout
        tokenValues = C
        // group the tensors by owning layer: (weight, bias?)
        var layers: [(weight: ParameterLayout.Tensor, bias: ParameterLayout.Tensor?)] = []
        for tensor in layout.tensors where !tensor.isBias {
            layers.append((tensor, layout.tensors.first { $0.isBias && $0.layerIndex == tensor.layerIndex }))
        }
        layerCount = layers.count
        let F = TokenPositionFeature.allCases.count
        var sources: [Int32] = []
        var slotLayers: [Int32] = []
        var positions: [Float] = []
        var neuronTokenStarts: [Int32] = []
        var tokenNeurons: [Int32] = []
        var geneNeurons = [Int32](repeating: -1, count: layout.parameterCount)
        for (l, (weight, bias)) in layers.enumerated() {
            let neurons = weight.shape[0]
            let fanIn = weight.count / neurons
            let row = fanIn + (bias == nil ? 0 : 1)
            let chunks = (row + C - 1) / C
            let depth = layers.count > 1 ? Float(l) / Float(layers.count - 1) : 0
            let kind: Float = weight.shape.count == 4 ? 1 : 0
            for i in 0..<neurons {
                let neuron = Int32(neuronTokenStarts.count)
                neuronTokenStarts.append(Int32(tokenNeurons.count))
                for c in 0..<chunks {
                    tokenNeurons.append(neuron)
                    for j in 0..<C {
                        let k = c * C + j
                        let source: Int
                        if k < fanIn {
                            source = weight.offset + i * fanIn + k
                        } else if k == fanIn, let bias {
                            source = bias.offset + i
                        } else {
                            source = -1
                        }
                        sources.append(Int32(source))
                        slotLayers.append(source < 0 ? -1 : Int32(l))
                        if source >= 0 { geneNeurons[source] = neuron }
                    }
                    var feature = [Float](repeating: 0, count: F)
                    feature[TokenPositionFeature.layerIndex.rawValue] = min(
                        1, Float(l) / Float(TokenPositionFeature.maxLayers))
                    feature[TokenPositionFeature.relativeDepth.rawValue] = depth
                    feature[TokenPositionFeature.neuronIndex.rawValue] = (Float(i) + 0.5) / Float(neurons)
                    feature[TokenPositionFeature.chunkIndex.rawValue] = (Float(c) + 0.5) / Float(chunks)
                    feature[TokenPositionFeature.tensorKind.rawValue] = kind
                    positions += feature
                }
            }
        }
        self.sources = sources
        self.slotLayers = slotLayers
        self.positions = positions
        tokenCount = sources.count / C
        neuronCount = neuronTokenStarts.count
        neuronTokenStarts.append(Int32(tokenCount))
        self.neuronTokenStarts = neuronTokenStarts
        self.tokenNeurons = tokenNeurons
        self.geneNeurons = geneNeurons
    }

    /// Tokens of `B` genomes.
    ///
    /// genomes is (B, n); tokens is (B, T, C), fully written (padding slots get 0).
    public func tokenize(_ tokens: UnsafeMutablePointer<Float>, genomes: UnsafePointer<Float>, batch B: Int) {
        let n = parameterCount
        let S = tokenCount * tokenValues
        sources.withUnsafeBufferPointer { source in
            for b in 0..<B {
                let g = genomes + b * n
                let out = tokens + b * S
                for k in 0..<S {
                    let s = Int(source[k])
                    out[k] = s < 0 ? 0 : g[s]
                }
            }
        }
    }

    /// Genomes from tokens, the exact inverse of `tokenize`; padding slots are ignored.
    ///
    /// tokens is (B, T, C); genomes is (B, n), fully written.
    public func detokenize(_ genomes: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Float>, batch B: Int) {
        let n = parameterCount
        let S = tokenCount * tokenValues
        sources.withUnsafeBufferPointer { source in
            for b in 0..<B {
                let g = genomes + b * n
                let inp = tokens + b * S
                for k in 0..<S {
                    let s = Int(source[k])
                    if s >= 0 { g[s] = inp[k] }
                }
            }
        }
    }

    /// The adjoint of `detokenize`: adds `∂loss/∂genome` into `∂loss/∂tokens`.
    ///
    /// Each slot holds one genome value, so `dTokens[t·C + j] += dGenomes[source]`, and padding
    /// slots receive nothing. dGenomes is (B, n); dTokens is (B, T, C).
    public func detokenizeBackward(_ dTokens: UnsafeMutablePointer<Float>, dGenomes: UnsafePointer<Float>, batch B: Int)
    {
        let n = parameterCount
        let S = tokenCount * tokenValues
        sources.withUnsafeBufferPointer { source in
            for b in 0..<B {
                let dg = dGenomes + b * n
                let dt = dTokens + b * S
                for k in 0..<S {
                    let s = Int(source[k])
                    if s >= 0 { dt[k] += dg[s] }
                }
            }
        }
    }

    /// `[B, T, F]`: the position features repeated for `B` genomes.
    public func batchPositions(_ B: Int) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(B * positions.count)
        for _ in 0..<B { out += positions }
        return out
    }

    /// `[B, T]` token mask: every token of a genome of this layout is real.
    public func batchMask(_ B: Int) -> [Float] {
        [Float](repeating: 1, count: B * tokenCount)
    }

    /// Tokens of an array of genomes laid end to end: `[B·n]` → `[B·T·C]`.
    public func tokenize(_ genomes: [Float], batch B: Int) -> [Float] {
        precondition(
            genomes.count == B * parameterCount,
            "genomes hold \(genomes.count) values, need B·n = \(B * parameterCount)")
        var tokens = [Float](repeating: 0, count: B * tokenCount * tokenValues)
        genomes.withUnsafeBufferPointer { g in
            tokens.withUnsafeMutableBufferPointer { tokenize($0.baseAddress!, genomes: g.baseAddress!, batch: B) }
        }
        return tokens
    }

    /// Genomes of an array of tokens: `[B·T·C]` → `[B·n]`.
    public func detokenize(_ tokens: [Float], batch B: Int) -> [Float] {
        precondition(
            tokens.count == B * tokenCount * tokenValues,
            "tokens hold \(tokens.count) values, need B·T·C = \(B * tokenCount * tokenValues)")
        var genomes = [Float](repeating: 0, count: B * parameterCount)
        tokens.withUnsafeBufferPointer { t in
            genomes.withUnsafeMutableBufferPointer { detokenize($0.baseAddress!, tokens: t.baseAddress!, batch: B) }
        }
        return genomes
    }
}
