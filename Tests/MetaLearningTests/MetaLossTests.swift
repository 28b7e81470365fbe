import Kernels
import Networks
import Tasks
import Testing

@testable import MetaLearning

/// A small synthetic classification task: `N` samples of `features` features, `classes` classes.
func syntheticTask(samples N: Int = 40, features: Int = 3, classes: Int = 2, seed: UInt64 = 3) throws -> DatasetTask {
    var random = RandomStream(seed: seed, purpose: "synthetic dataset")
    let x = (0..<N * features).map { _ in Float(random.gaussian()) }
    let labels = (0..<N).map { i in x[i * features] + 0.5 * x[i * features + 1] > 0 ? 1 % classes : 0 }
    let dataset = Dataset(
        features: x, featureCount: features, featureNames: (0..<features).map { "f\($0)" },
        targets: .classes(labels, names: (0..<classes).map { "c\($0)" }))
    let (train, test) = dataset.split(testFraction: 0.25, seed: 1)
    return try DatasetTask(name: "synthetic", train: train, test: test, fitness: .negCrossEntropy)
}

@Suite struct MetaLossTests {
    @Test func rankNormalization() {
        #expect(MetaLoss.rankNormalized([3, 1, 2]) == [1, 0, 0.5])
        #expect(MetaLoss.rankNormalized([1, 1, 5]) == [0.25, 0.25, 1])
        #expect(MetaLoss.rankNormalized([7]) == [0.5])
    }

    /// `∂(Σ_k s_k L_k)/∂decoded` and `∂/∂predictions` against central differences in float64 sums;
    /// with anchors (genomes as deltas from them, the anchored latent's records) too.
    @Test(arguments: [false, true]) func gradientMatchesFiniteDifferences(withAnchors: Bool) throws {
        let task = try syntheticTask()
        let network = try Network(spec: .mlp([3, 4, 2], activation: .tanh))
        let tokenizer = Tokenizer(layout: network.layout, tokenValues: 3)
        let probe = try BehaviourProbe(task: task, network: network, count: 12, seed: 5)
        #expect(probe.loss != nil && probe.count == 12)
        let loss = MetaLoss(network: network, tokenizer: tokenizer, probe: probe)
        let B = 2
        let n = network.parameterCount
        let S = tokenizer.tokenCount * tokenizer.tokenValues
        var random = RandomStream(seed: 8, purpose: "meta loss test")
        let genomes = (0..<B * n).map { _ in Float(random.gaussian()) * 0.8 }
        let original = tokenizer.tokenize(genomes, batch: B)
        var decoded = original.map { $0 + Float(random.gaussian()) * 0.3 }
        var predictions = (0..<B).map { _ in random.uniformFloat() }
        let targets: [Float] = [0, 1]
        let scales = MetaLossTerms(reconstruction: 1, behaviour: 0.7, gap: 0.5, head: 0.3)
        let anchors: [Float]? = withAnchors ? (0..<B * n).map { _ in Float(random.gaussian()) } : nil

        func value() -> (Double, MetaLossTerms) {
            let terms = loss.forward(
                decoded: decoded, original: original, genomes: genomes, anchors: anchors, predictions: predictions,
                targets: targets, batch: B, withProbe: true)
            return (scales.dot(terms), terms)
        }
        let (_, terms) = value()
        #expect(terms.reconstruction > 0 && terms.behaviour > 0 && terms.gap > 0 && terms.head > 0)
        var dDecoded = [Float](repeating: 0, count: B * S)
        var dPredictions = [Float](repeating: 0, count: B)
        loss.backward(dDecoded: &dDecoded, dPredictions: &dPredictions, scales: scales)

        let eps: Float = 1e-2
        var worst = 0.0
        for k in 0..<B * S {
            let saved = decoded[k]
            decoded[k] = saved + eps
            let plus = value().0
            decoded[k] = saved - eps
            let minus = value().0
            decoded[k] = saved
            let numeric = (plus - minus) / (2 * Double(eps))
            if tokenizer.sources[k % S] < 0 {
                #expect(dDecoded[k] == 0 && abs(numeric) < 1e-9, "padding slot \(k) has a gradient")
                continue
            }
            let error = abs(numeric - Double(dDecoded[k])) / max(abs(numeric), 1e-2)
            worst = max(worst, error)
            #expect(error < 2e-2, "slot \(k): numeric \(numeric), analytic \(dDecoded[k])")
        }
        for b in 0..<B {
            let saved = predictions[b]
            predictions[b] = saved + eps
            let plus = value().0
            predictions[b] = saved - eps
            let minus = value().0
            predictions[b] = saved
            let numeric = (plus - minus) / (2 * Double(eps))
            #expect(abs(numeric - Double(dPredictions[b])) < 1e-3 * max(1, abs(numeric)))
        }
        print("MetaLoss gradient: largest relative error \(worst)")
    }

    /// With anchors `a`, the behavioural and gap terms of deltas `g` and `ĝ` are those of the whole
    /// networks `a + g` and `a + ĝ`; the reconstruction term is the deltas' own.
    @Test func anchoredBehaviourIsTheWholeNetworks() throws {
        let task = try syntheticTask()
        let network = try Network(spec: .mlp([3, 4, 2], activation: .tanh))
        let tokenizer = Tokenizer(layout: network.layout, tokenValues: 3)
        let probe = try BehaviourProbe(task: task, network: network, count: 12, seed: 5)
        let loss = MetaLoss(network: network, tokenizer: tokenizer, probe: probe)
        let B = 3
        let n = network.parameterCount
        var random = RandomStream(seed: 9, purpose: "anchored meta loss test")
        let deltas = (0..<B * n).map { _ in Float(random.gaussian()) * 0.1 }
        let decodedDeltas = deltas.map { $0 + Float(random.gaussian()) * 0.05 }
        let anchor = (0..<n).map { _ in Float(random.gaussian()) }
        let anchors = (0..<B).flatMap { _ in anchor }
        let predictions: [Float] = [0.2, 0.5, 0.9]
        let targets: [Float] = [0, 0.5, 1]
        let anchored = loss.forward(
            decoded: tokenizer.tokenize(decodedDeltas, batch: B), original: tokenizer.tokenize(deltas, batch: B),
            genomes: deltas, anchors: anchors, predictions: predictions, targets: targets, batch: B, withProbe: true)
        let whole = zip(deltas, anchors).map { $0 + $1 }
        let decodedWhole = zip(decodedDeltas, anchors).map { $0 + $1 }
        let absolute = loss.forward(
            decoded: tokenizer.tokenize(decodedWhole, batch: B), original: tokenizer.tokenize(whole, batch: B),
            genomes: whole, predictions: predictions, targets: targets, batch: B, withProbe: true)
        let unanchored = loss.forward(
            decoded: tokenizer.tokenize(decodedDeltas, batch: B), original: tokenizer.tokenize(deltas, batch: B),
            genomes: deltas, predictions: predictions, targets: targets, batch: B, withProbe: true)
        #expect(abs(anchored.behaviour - absolute.behaviour) <= 1e-5 * absolute.behaviour)
        #expect(abs(anchored.gap - absolute.gap) <= 1e-5 * absolute.gap + 1e-9)
        #expect(anchored.reconstruction == unanchored.reconstruction)
        #expect(
            abs(anchored.behaviour - unanchored.behaviour) > 1e-3 * absolute.behaviour,
            "the anchor changes the networks scored")
    }

    @Test func perfectReconstructionHasZeroLoss() throws {
        let task = try syntheticTask()
        let network = try Network(spec: .mlp([3, 5, 2]))
        let tokenizer = Tokenizer(layout: network.layout, tokenValues: 4)
        let loss = MetaLoss(
            network: network, tokenizer: tokenizer,
            probe: try BehaviourProbe(task: task, network: network, count: 8, seed: 1))
        var stream = RandomStream(seed: 2, purpose: "genomes")
        let genomes = network.initializedGenome(stream: &stream) + network.initializedGenome(stream: &stream)
        let tokens = tokenizer.tokenize(genomes, batch: 2)
        let terms = loss.forward(
            decoded: tokens, original: tokens, genomes: genomes, predictions: [0, 1], targets: [0, 1], batch: 2,
            withProbe: true)
        #expect(terms == MetaLossTerms())
    }
}
