import Foundation
import Networks
import Tasks

// B = genomes, n = parameters per genome, T = tokens, C = values per token, N = probe inputs,
// O = network outputs per input, L = parameterised layers.

/// The four terms of the meta-learner's objective, raw (before weighting and normalisation), or
/// the per-term scales `w_k / L_k⁽⁰⁾` that multiply them.
public struct MetaLossTerms: Codable, Equatable, Sendable {
    public var reconstruction: Double
    public var behaviour: Double
    public var gap: Double
    public var head: Double

    public init(reconstruction: Double = 0, behaviour: Double = 0, gap: Double = 0, head: Double = 0) {
        self.reconstruction = reconstruction
        self.behaviour = behaviour
        self.gap = gap
        self.head = head
    }

    /// `Σ_k a_k · b_k`.
    public func dot(_ other: MetaLossTerms) -> Double {
        reconstruction * other.reconstruction + behaviour * other.behaviour + gap * other.gap + head * other.head
    }

    /// The terms in order rec, beh, gap, head.
    public var values: [Double] { [reconstruction, behaviour, gap, head] }

    public init(values: [Double]) {
        precondition(values.count == 4, "four terms")
        self.init(reconstruction: values[0], behaviour: values[1], gap: values[2], head: values[3])
    }
}

/// The meta-learner's objective for a batch of genomes of one network:
/// `w_rec·L_rec/L_rec⁽⁰⁾ + w_beh·L_beh/L_beh⁽⁰⁾ + w_gap·L_gap/L_gap⁽⁰⁾ + w_head·L_head/L_head⁽⁰⁾`, where
/// `L⁽⁰⁾` is each term's first observed value (kept by `MetaTrainer`; this type computes the raw
/// terms and back-propagates given the scales `w_k/L_k⁽⁰⁾`).
///
/// - `L_rec = (1/L) Σ_ℓ (1/(B·n_ℓ)) Σ_{b, i∈ℓ} (ĝ_bi − g_bi)² / σ_ℓ²`: the masked mean squared error
///   of layer `ℓ`'s `n_ℓ` values (weights and bias; padding slots excluded), divided by `σ_ℓ²`, the
///   variance of layer `ℓ`'s *weights* over the whole original batch (pooled over genomes, bias
///   excluded). Dividing by the variance makes each layer's error relative to its own scale (a
///   decoder that outputs the layer's mean scores about 1 for every layer), and averaging over
///   layers makes a 330-value output layer count as much as a 262,656-value hidden layer: PyTorch's
///   initialisation gives layers weight scales `1/√fan_in` that differ by an order of magnitude,
///   and an unnormalised MSE would ignore the small-scale layers. The weights alone set `σ_ℓ`
///   because biases are few and, at initialisation, often constant.
/// - `L_beh = (1/(B·N·O)) Σ (f(ĝ_b, x) − f(g_b, x))²`: mean squared difference of the networks'
///   raw outputs on the probe inputs `x` (logits for a classifier with a linear last layer).
///   Matching logits by MSE is the distillation loss of Ba & Caruana (2014, "Do deep nets really
///   need to be deep?"): it constrains the decoded network more than KL of the softmaxes (which
///   ignores a per-sample shift of all logits) and is defined for any task, regression and control
///   policies included. The gradient goes back through the decoded network with
///   `Network.backward` into `∂/∂ĝ`, then through the adjoint of `Tokenizer.detokenize`.
/// - `L_gap = (1/B) Σ_b (ℓ(ĝ_b) − ℓ(g_b))²` with `ℓ` the task's differentiable loss on the probe
///   samples; 0 for tasks without one.
/// - `L_head = (1/B) Σ_b (ŷ_b − r_b)²`: the fitness head's prediction against the genome's
///   rank-normalised fitness `r_b ∈ [0, 1]` (see `MetaLoss.rankNormalized`).
///
/// Sums run in Double. The decoded networks' outputs are computed twice: once batched (all `B`
/// genomes in one `Network.forward`) for the loss values, once per genome with
/// `forwardRecording` for the backward pass, because the scales of the first step are only known
/// once every term has been measured.
public final class MetaLoss {
    public let network: Network
    public let tokenizer: Tokenizer
    /// Inputs of `L_beh` and `L_gap`; `nil` when neither term is used.
    public let probe: BehaviourProbe?

    /// `n_ℓ`: genome values of each parameterised layer.
    let layerSizes: [Int]
    /// Last forward pass's batch and its values, kept for `backward`.
    private var batch = 0
    private var layerVariances: [Double] = []
    private var originalTokens: [Float] = []
    private var decodedTokens: [Float] = []
    private var decodedGenomes: [Float] = []
    private var originalOutputs: [Float] = []
    private var decodedOutputs: [Float] = []
    private var originalLosses: [Float] = []
    private var decodedLosses: [Float] = []
    private var predictions: [Float] = []
    private var targets: [Float] = []

    /// - Parameters:
    ///   - network: the architecture of the genomes.
    ///   - tokenizer: its tokenizer.
    ///   - probe: the behavioural probe, or `nil` when `w_beh = w_gap = 0`.
    public init(network: Network, tokenizer: Tokenizer, probe: BehaviourProbe?) {
        self.network = network
        self.tokenizer = tokenizer
        self.probe = probe
        var sizes = [Int](repeating: 0, count: tokenizer.layerCount)
        for l in tokenizer.slotLayers where l >= 0 { sizes[Int(l)] += 1 }
        layerSizes = sizes
    }

    /// Rank-normalised fitness: `r_i = (rank_i) / (B − 1)` with the lowest fitness at 0 and the
    /// highest at 1, tied values sharing their mean rank; 0.5 for a single value.
    ///
    /// Over a random minibatch, `E[r_i]` is genome `i`'s quantile among the records, so regressing
    /// on minibatch ranks has the same minimiser as regressing on the quantile in the whole set.
    public static func rankNormalized(_ fitness: [Float]) -> [Float] {
        let B = fitness.count
        guard B > 1 else { return [Float](repeating: 0.5, count: B) }
        let order = fitness.indices.sorted { fitness[$0] < fitness[$1] || (fitness[$0] == fitness[$1] && $0 < $1) }
        var ranks = [Float](repeating: 0, count: B)
        var start = 0
        while start < B {
            var end = start
            while end + 1 < B && fitness[order[end + 1]] == fitness[order[start]] { end += 1 }
            let mean = Float(start + end) / 2
            for k in start...end { ranks[order[k]] = mean / Float(B - 1) }
            start = end + 1
        }
        return ranks
    }

    /// Computes the four raw terms.
    ///
    /// - Parameters:
    ///   - decoded: `[B, T, C]`, the autoencoder's output tokens.
    ///   - original: `[B, T, C]`, the input tokens.
    ///   - genomes: `[B, n]`, the original genomes.
    ///   - anchors: `[B, n]` anchors when the genomes are deltas (`MetaRecord.anchor`): the
    ///     behavioural and gap terms then compare the networks `a + g` and `a + ĝ`; the gradient
    ///     with respect to `ĝ` is the one with respect to `a + ĝ`.
    ///   - predictions: `[B]`, the fitness head's outputs.
    ///   - targets: `[B]`, rank-normalised fitness.
    ///   - batch: `B`.
    ///   - withProbe: whether to compute `L_beh` and `L_gap` (false when both weights are 0).
    public func forward(
        decoded: UnsafePointer<Float>, original: UnsafePointer<Float>, genomes: UnsafePointer<Float>,
        anchors: [Float]? = nil,
        predictions: UnsafePointer<Float>, targets: UnsafePointer<Float>, batch B: Int, withProbe: Bool
    ) -> MetaLossTerms {
        batch = B
        let n = tokenizer.parameterCount
        let S = tokenizer.tokenCount * tokenizer.tokenValues
        originalTokens = Array(UnsafeBufferPointer(start: original, count: B * S))
        decodedTokens = Array(UnsafeBufferPointer(start: decoded, count: B * S))
        self.predictions = Array(UnsafeBufferPointer(start: predictions, count: B))
        self.targets = Array(UnsafeBufferPointer(start: targets, count: B))
        var terms = MetaLossTerms()

        // L_rec: σ_ℓ² of each layer's weights over the batch, then per-layer relative MSE
        layerVariances = []
        for tensor in tokenizer.layout.tensors where !tensor.isBias {
            var sum = 0.0
            var squares = 0.0
            for b in 0..<B {
                let w = genomes + b * n + tensor.offset
                for i in 0..<tensor.count {
                    sum += Double(w[i])
                    squares += Double(w[i]) * Double(w[i])
                }
            }
            let count = Double(B * tensor.count)
            let mean = sum / count
            layerVariances.append(max(squares / count - mean * mean, 1e-12))
        }
        var layerErrors = [Double](repeating: 0, count: tokenizer.layerCount)
        tokenizer.slotLayers.withUnsafeBufferPointer { layers in
            for b in 0..<B {
                for k in 0..<S where layers[k] >= 0 {
                    let e = Double(decoded[b * S + k]) - Double(original[b * S + k])
                    layerErrors[Int(layers[k])] += e * e
                }
            }
        }
        for l in 0..<tokenizer.layerCount {
            terms.reconstruction += layerErrors[l] / (Double(B * layerSizes[l]) * layerVariances[l])
        }
        terms.reconstruction /= Double(tokenizer.layerCount)

        // L_head
        for b in 0..<B {
            let e = Double(predictions[b]) - Double(targets[b])
            terms.head += e * e / Double(B)
        }

        // L_beh and L_gap
        guard withProbe, let probe else { return terms }
        decodedGenomes = [Float](repeating: 0, count: B * n)
        decodedGenomes.withUnsafeMutableBufferPointer {
            tokenizer.detokenize($0.baseAddress!, tokens: decoded, batch: B)
        }
        // With anchors the networks scored are a + g and a + ĝ (the genomes are copied only then).
        var shifted: [Float]? = nil
        if let anchors {
            precondition(anchors.count == B * n, "anchors hold \(anchors.count) values, need B·n = \(B * n)")
            var networks = Array(UnsafeBufferPointer(start: genomes, count: B * n))
            for i in 0..<B * n {
                networks[i] += anchors[i]
                decodedGenomes[i] += anchors[i]
            }
            shifted = networks
        }
        let N = probe.count
        let O = network.outputSize
        originalOutputs = [Float](repeating: 0, count: B * N * O)
        decodedOutputs = [Float](repeating: 0, count: B * N * O)
        probe.inputs.withUnsafeBufferPointer { x in
            originalOutputs.withUnsafeMutableBufferPointer { y in
                func forward(_ g: UnsafeBufferPointer<Float>) {
                    network.forward(
                        genomes: g, populationSize: B, inputs: x, batchSize: N, sharedInputs: true, outputs: y)
                }
                if let shifted {
                    shifted.withUnsafeBufferPointer(forward)
                } else {
                    forward(UnsafeBufferPointer(start: genomes, count: B * n))
                }
            }
            decodedGenomes.withUnsafeBufferPointer { g in
                decodedOutputs.withUnsafeMutableBufferPointer { y in
                    network.forward(
                        genomes: g, populationSize: B, inputs: x, batchSize: N, sharedInputs: true, outputs: y)
                }
            }
        }
        var behaviour = 0.0
        for i in 0..<B * N * O {
            let e = Double(decodedOutputs[i]) - Double(originalOutputs[i])
            behaviour += e * e
        }
        terms.behaviour = behaviour / Double(B * N * O)
        if let loss = probe.loss {
            originalLosses = [Float](repeating: 0, count: B)
            decodedLosses = [Float](repeating: 0, count: B)
            originalOutputs.withUnsafeBufferPointer { y in
                originalLosses.withUnsafeMutableBufferPointer {
                    loss.forward(losses: $0, outputs: y, populationSize: B, samples: probe.samples)
                }
            }
            decodedOutputs.withUnsafeBufferPointer { y in
                decodedLosses.withUnsafeMutableBufferPointer {
                    loss.forward(losses: $0, outputs: y, populationSize: B, samples: probe.samples)
                }
            }
            for b in 0..<B {
                let e = Double(decodedLosses[b]) - Double(originalLosses[b])
                terms.gap += e * e / Double(B)
            }
        }
        return terms
    }

    /// Adds the gradient of `Σ_k scales_k · L_k` (last `forward`) into `dDecoded` and `dPredictions`.
    ///
    /// - Parameters:
    ///   - dDecoded: `[B, T, C]`, added into.
    ///   - dPredictions: `[B]`, added into.
    ///   - scales: `w_k / L_k⁽⁰⁾` per term.
    public func backward(
        dDecoded: UnsafeMutablePointer<Float>, dPredictions: UnsafeMutablePointer<Float>, scales: MetaLossTerms
    ) {
        let B = batch
        precondition(B > 0, "backward needs a forward pass first")
        let n = tokenizer.parameterCount
        let S = tokenizer.tokenCount * tokenizer.tokenValues

        // ∂L_rec/∂decoded = 2e / (L · B · n_ℓ · σ_ℓ²)
        if scales.reconstruction != 0 {
            let factors = (0..<tokenizer.layerCount).map {
                Float(
                    2 * scales.reconstruction / (Double(tokenizer.layerCount * B * layerSizes[$0]) * layerVariances[$0])
                )
            }
            tokenizer.slotLayers.withUnsafeBufferPointer { layers in
                for b in 0..<B {
                    for k in 0..<S where layers[k] >= 0 {
                        dDecoded[b * S + k] +=
                            factors[Int(layers[k])] * (decodedTokens[b * S + k] - originalTokens[b * S + k])
                    }
                }
            }
        }
        // ∂L_head/∂ŷ = 2(ŷ − r)/B
        for b in 0..<B { dPredictions[b] += Float(2 * scales.head / Double(B)) * (predictions[b] - targets[b]) }

        guard let probe, scales.behaviour != 0 || (scales.gap != 0 && probe.loss != nil), !decodedGenomes.isEmpty else {
            return
        }
        let N = probe.count
        let O = network.outputSize
        var outputs = [Float](repeating: 0, count: N * O)
        var dOutputs = [Float](repeating: 0, count: N * O)
        var dGenomes = [Float](repeating: 0, count: B * n)
        let behaviourFactor = Float(2 * scales.behaviour / Double(B * N * O))
        let decodedAll = decodedGenomes
        decodedAll.withUnsafeBufferPointer { all in
            for b in 0..<B {
                let genome = UnsafeBufferPointer(rebasing: all[b * n..<(b + 1) * n])
                // ∂L_beh/∂ŷ = 2(ŷ − y)/(B·N·O)
                for i in 0..<N * O {
                    dOutputs[i] = behaviourFactor * (decodedOutputs[b * N * O + i] - originalOutputs[b * N * O + i])
                }
                // ∂L_gap/∂ŷ = 2(ℓ̂ − ℓ)/B · ∂ℓ̂/∂ŷ
                if let loss = probe.loss, scales.gap != 0 {
                    var dLoss = Float(2 * scales.gap / Double(B)) * (decodedLosses[b] - originalLosses[b])
                    decodedOutputs.withUnsafeBufferPointer { all in
                        dOutputs.withUnsafeMutableBufferPointer { d in
                            withUnsafePointer(to: &dLoss) {
                                loss.backward(
                                    dOutputs: d,
                                    outputs: UnsafeBufferPointer(rebasing: all[b * N * O..<(b + 1) * N * O]),
                                    dLosses: UnsafeBufferPointer(start: $0, count: 1), populationSize: 1,
                                    samples: probe.samples)
                            }
                        }
                    }
                }
                probe.inputs.withUnsafeBufferPointer { x in
                    outputs.withUnsafeMutableBufferPointer {
                        network.forwardRecording(genome: genome, inputs: x, batchSize: N, outputs: $0)
                    }
                }
                dOutputs.withUnsafeBufferPointer { dy in
                    dGenomes.withUnsafeMutableBufferPointer { dg in
                        network.backward(
                            genome: genome, outputGradient: dy,
                            parameterGradient: UnsafeMutableBufferPointer(rebasing: dg[b * n..<(b + 1) * n]),
                            inputGradient: nil)
                    }
                }
            }
        }
        dGenomes.withUnsafeBufferPointer { tokenizer.detokenizeBackward(dDecoded, dGenomes: $0.baseAddress!, batch: B) }
    }
}
