import Foundation
import Kernels
import Networks
import Testing

@testable import Tasks

@Suite struct SupervisedLossTests {
    /// Float64 reference of the mean loss of one genome's outputs.
    func referenceLoss(_ z: [Double], labels: [Int], classes C: Int, probabilities: Bool) -> Double {
        var sum = 0.0
        for (b, y) in labels.enumerated() {
            let row = Array(z[b * C..<(b + 1) * C])
            if probabilities {
                sum += -Foundation.log(max(row[y], 1e-30))
            } else {
                let m = row.max()!
                sum += m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +)) - row[y]
            }
        }
        return sum / Double(labels.count)
    }

    func classificationLoss(_ labels: [Int], classes C: Int, output: ClassifierOutput) -> SupervisedLoss {
        let dataset = Dataset(
            features: labels.map { Float($0) }, featureCount: 1, featureNames: ["x"],
            targets: .classes(labels, names: (0..<C).map(String.init)))
        return SupervisedLoss(dataset: dataset, output: output)
    }

    /// Feature-major outputs of `P` genomes on samples `range` (the layout `accumulateFeatureMajor` reads)
    /// from sample-major ones (P, B, O).
    func featureMajorTile(_ z: [Float], P: Int, B: Int, O: Int, range: Range<Int>) -> [Float] {
        var tile: [Float] = []
        for p in 0..<P {
            for o in 0..<O {
                for b in range { tile.append(z[(p * B + b) * O + o]) }
            }
        }
        return tile
    }

    /// Loss sums over two tiles of feature-major outputs agree with `forward` on the whole batch,
    /// for every loss kind, with huge logits, and with non-finite outputs; so do the correct counts.
    @Test(arguments: ["logits", "probabilities", "values"])
    func featureMajorAccumulationAgreesWithForward(kind: String) {
        let labels = [0, 2, 1, 3, 2, 1, 0, 0, 3, 2, 1]
        let B = labels.count
        let P = 5
        let C = kind == "values" ? 1 : 4
        let loss: SupervisedLoss
        var stream = RandomStream(seed: 8, purpose: "test")
        var z = (0..<P * B * C).map { _ in Float(stream.gaussian() * 2) }
        switch kind {
        case "logits":
            loss = classificationLoss(labels, classes: C, output: .logits)
            for i in B * C..<2 * B * C { z[i] *= 400 }  // genome 1: logits far beyond ±80
            z[2 * B * C + 5] = .nan  // genome 2, sample 1
            z[3 * B * C + 7] = .infinity  // genome 3, sample 1, not its label
            z[4 * B * C + 20] = -.infinity  // genome 4, sample 5, not its label
        case "probabilities":
            loss = classificationLoss(labels, classes: C, output: .probabilities)
            z = z.map { 1 / (1 + Foundation.exp(-$0)) }
        default:
            let dataset = Dataset(
                features: labels.map { Float($0) }, featureCount: 1, featureNames: ["x"],
                targets: .values(labels.map { Float($0) * 0.3 - 0.2 }))
            loss = SupervisedLoss(dataset: dataset, output: .logits)
        }
        var expected = [Float](repeating: 0, count: P)
        z.withUnsafeBufferPointer { o in
            expected.withUnsafeMutableBufferPointer {
                loss.forward(losses: $0, outputs: o, populationSize: P, samples: 0..<B)
            }
        }
        var correct = [Int](repeating: 0, count: P)
        z.withUnsafeBufferPointer { loss.correctCounts(&correct, outputs: $0, populationSize: P, samples: 0..<B) }

        var sums = [Double](repeating: 0, count: P)
        var counts = [Int](repeating: 0, count: P)
        for range in [0..<4, 4..<B] {
            let tile = featureMajorTile(z, P: P, B: B, O: C, range: range)
            // Genomes in groups of 2, 2 and 1, as a forward pass in groups would hand them over.
            for (first, count) in [(0, 2), (2, 2), (4, 1)] {
                tile.withUnsafeBufferPointer { t in
                    let outputs = t.baseAddress! + first * C * range.count
                    sums.withUnsafeMutableBufferPointer {
                        loss.accumulateFeatureMajor(
                            sums: $0.baseAddress! + first, outputs: outputs, genomeCount: count, samples: range)
                    }
                    counts.withUnsafeMutableBufferPointer {
                        loss.accumulateCorrectFeatureMajor(
                            correct: $0.baseAddress! + first, outputs: outputs, genomeCount: count, samples: range)
                    }
                }
            }
        }
        for p in 0..<P {
            let mean = Float(sums[p] / Double(B))
            if kind == "logits" && p >= 2 {
                #expect(!mean.isFinite && !expected[p].isFinite, "genome \(p): \(mean)")
            } else {
                #expect(mean.isFinite)
                #expect(
                    abs(mean - expected[p]) <= 2e-6 * max(1, abs(expected[p])), "genome \(p): \(mean) vs \(expected[p])"
                )
            }
        }
        if kind != "values" {
            #expect(counts == correct)
            #expect(counts.contains { $0 > 0 })
        }
    }

    @Test func nonFiniteOutputsGiveNonFiniteLoss() {
        let loss = classificationLoss([0, 1], classes: 3, output: .logits)
        for bad in [Float.nan, .infinity, -.infinity] {
            let z: [Float] = [0.1, bad, 0.3, 0.2, 0.5, -0.1]
            var l: [Float] = [0]
            z.withUnsafeBufferPointer { o in
                l.withUnsafeMutableBufferPointer {
                    loss.forward(losses: $0, outputs: o, populationSize: 1, samples: 0..<2)
                }
            }
            #expect(!l[0].isFinite, "output \(bad)")
        }
    }

    @Test func crossEntropyMatchesFloat64ReferenceAndIsStable() {
        let labels = [0, 2, 1, 3, 2]
        let loss = classificationLoss(labels, classes: 4, output: .logits)
        var stream = RandomStream(seed: 3, purpose: "test")
        // Two genomes; the second has huge logits, where a naive exp would overflow.
        var z = (0..<40).map { _ in Float(stream.gaussian() * 2) }
        for i in 20..<40 { z[i] *= 400 }
        var losses: [Float] = [0, 0]
        z.withUnsafeBufferPointer { o in
            losses.withUnsafeMutableBufferPointer {
                loss.forward(losses: $0, outputs: o, populationSize: 2, samples: 0..<5)
            }
        }
        for p in 0..<2 {
            let reference = referenceLoss(
                z[p * 20..<(p + 1) * 20].map(Double.init), labels: labels, classes: 4, probabilities: false)
            #expect(losses[p].isFinite)
            #expect(abs(Double(losses[p]) - reference) <= 1e-5 * max(1, abs(reference)))
        }
    }

    /// Gradient of every loss kind against central finite differences of a float64 reference.
    @Test(arguments: ["logits", "probabilities", "values"])
    func backwardMatchesFiniteDifferences(kind: String) {
        let labels = [1, 0, 2]
        let C = kind == "values" ? 1 : 3
        let loss: SupervisedLoss
        switch kind {
        case "logits": loss = classificationLoss(labels, classes: 3, output: .logits)
        case "probabilities": loss = classificationLoss(labels, classes: 3, output: .probabilities)
        default:
            loss = SupervisedLoss(
                dataset: Dataset(
                    features: [0, 1, 2], featureCount: 1, featureNames: ["x"], targets: .values([0.5, -1, 2])),
                output: .logits)
        }
        var stream = RandomStream(seed: 11, purpose: "test")
        let P = 2
        let B = 3
        var z = (0..<P * B * C).map { _ in Float(stream.uniform(0.1, 0.9)) }
        if kind == "logits" { z = z.map { $0 * 4 - 2 } }
        let dLosses: [Float] = [1.0, -0.5]
        var dz = [Float](repeating: 0.25, count: z.count)  // backward adds: start from non-zero
        z.withUnsafeBufferPointer { o in
            dLosses.withUnsafeBufferPointer { dl in
                dz.withUnsafeMutableBufferPointer {
                    loss.backward(dOutputs: $0, outputs: o, dLosses: dl, populationSize: P, samples: 0..<B)
                }
            }
        }
        func reference(_ zz: [Double], genome p: Int) -> Double {
            let row = Array(zz[p * B * C..<(p + 1) * B * C])
            switch kind {
            case "values": return zip(row, [0.5, -1, 2]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(B)
            default: return referenceLoss(row, labels: labels, classes: C, probabilities: kind == "probabilities")
            }
        }
        let z64 = z.map(Double.init)
        let h = 1e-6
        for i in z.indices {
            let p = i / (B * C)
            var plus = z64
            var minus = z64
            plus[i] += h
            minus[i] -= h
            let numeric = Double(dLosses[p]) * (reference(plus, genome: p) - reference(minus, genome: p)) / (2 * h)
            #expect(abs(Double(dz[i] - 0.25) - numeric) <= 1e-4 * max(1, abs(numeric)), "\(kind) output \(i)")
        }
    }

    /// A network ending in log_softmax scores like one ending in its logits; one ending in softmax
    /// is read as probabilities and gives the same loss too.
    @Test func finalSoftmaxAndLogSoftmaxAreHandled() throws {
        let logits = NetworkSpec.mlp([4, 5, 3], activation: .tanh)
        var logSoftmax = logits
        logSoftmax.layers.append(.activation(.logSoftmax))
        var softmax = logits
        softmax.layers.append(.activation(.softmax))
        #expect(ClassifierOutput(spec: logits) == .logits)
        #expect(ClassifierOutput(spec: logSoftmax) == .logits)
        #expect(ClassifierOutput(spec: softmax) == .probabilities)

        let dataset = Dataset(
            features: (0..<24).map { Float($0 % 7) / 7 - 0.4 }, featureCount: 4, featureNames: ["a", "b", "c", "d"],
            targets: .classes([0, 1, 2, 1, 0, 2], names: ["x", "y", "z"]))
        var values: [Float] = []
        for spec in [logits, logSoftmax, softmax] {
            let network = try Network(spec: spec)
            let genome = population(network, size: 1, seed: 4)
            let task = try DatasetTask(name: "t", train: dataset, test: dataset, fitness: .negCrossEntropy)
            values.append(
                try task.evaluate(genomes: genome, populationSize: 1, network: network, generation: 0, seed: 0)[0])
        }
        #expect(abs(values[1] - values[0]) < 1e-5)
        #expect(abs(values[2] - values[0]) < 1e-5)
    }
}
