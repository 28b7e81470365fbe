import Foundation
import Kernels
import Networks
import Testing

@testable import Tasks

@Suite struct DatasetTaskTests {
    /// Float64 forward of an MLP genome (PyTorch layout) on one input: the reference for the task.
    func referenceForward(_ genome: [Float], sizes: [Int], input: ArraySlice<Float>) -> [Double] {
        var h = input.map(Double.init)
        var offset = 0
        for l in 1..<sizes.count {
            let (i, o) = (sizes[l - 1], sizes[l])
            var next = [Double](repeating: 0, count: o)
            for r in 0..<o {
                var s = Double(genome[offset + i * o + r])
                for c in 0..<i { s += Double(genome[offset + r * i + c]) * h[c] }
                next[r] = s
            }
            offset += i * o + o
            h = l + 1 < sizes.count ? next.map { max($0, 0) } : next
        }
        return h
    }

    @Test func digitsFitnessMatchesReferenceForEveryGenome() throws {
        let task = try DatasetTask.digits(fitness: .negCrossEntropy, data: digitsPath)
        let accuracyTask = try DatasetTask.digits(fitness: .accuracy, data: digitsPath)
        #expect(task.train.sampleCount == 1438 && task.test.sampleCount == 359)
        let sizes = [64, 8, 10]
        let network = try Network(spec: .mlp(sizes))
        let P = 3
        let genomes = population(network, size: P)
        let fitness = try task.evaluate(genomes: genomes, populationSize: P, network: network, generation: 0, seed: 0)
        let accuracy = try accuracyTask.evaluate(
            genomes: genomes, populationSize: P, network: network, generation: 0, seed: 0)
        guard case .classes(let labels, _) = task.train.targets else {
            Issue.record("classes")
            return
        }
        let n = network.parameterCount
        for p in 0..<P {
            let genome = Array(genomes[p * n..<(p + 1) * n])
            var loss = 0.0
            var correct = 0
            for b in 0..<task.train.sampleCount {
                let z = referenceForward(genome, sizes: sizes, input: task.train.features[b * 64..<(b + 1) * 64])
                let m = z.max()!
                loss += m + Foundation.log(z.map { Foundation.exp($0 - m) }.reduce(0, +)) - z[labels[b]]
                if z.firstIndex(of: m)! == labels[b] { correct += 1 }
            }
            loss /= Double(task.train.sampleCount)
            #expect(abs(Double(fitness[p]) + loss) < 1e-4, "genome \(p): \(fitness[p]) vs \(-loss)")
            #expect(abs(Double(accuracy[p]) - Double(correct) / Double(task.train.sampleCount)) < 2.0 / 1438)
        }
        #expect(Set(fitness).count == P)
    }

    /// `evaluate` scores tile by tile on feature-major outputs; the fitness is the same as the
    /// sample-major forward pass followed by `SupervisedLoss.forward` (or `correctCounts`).
    @Test(arguments: [DatasetTask.Fitness.negCrossEntropy, .accuracy, .negMSE])
    func tiledFitnessAgreesWithTheWholeBatchLoss(fitness: DatasetTask.Fitness) throws {
        let task: DatasetTask
        let sizes: [Int]
        if fitness == .negMSE {
            var stream = RandomStream(seed: 2, purpose: "test")
            var lines = ["a,b,c,y"]
            for _ in 0..<700 {
                let x = (0..<3).map { _ in stream.gaussian() }
                lines.append("\(x[0]),\(x[1]),\(x[2]),\(x[0] - 2 * x[1] * x[2] + 0.1 * stream.gaussian())")
            }
            task = try DatasetTask.csv(
                path: try temporaryFile(lines.joined(separator: "\n")), target: "y", kind: .regression)
            sizes = [3, 24, 1]
        } else {
            task = try DatasetTask.digits(fitness: fitness, data: digitsPath)
            sizes = [64, 16, 10]
        }
        let network = try Network(spec: .mlp(sizes))
        #expect(network.supportsFeatureMajorForward)
        let P = 5
        let N = task.train.sampleCount
        #expect(N > 256)  // more than one tile
        let genomes = population(network, size: P, seed: 9)
        let fitnessValues = try task.evaluate(
            genomes: genomes, populationSize: P, network: network, generation: 0, seed: 0)
        let loss = SupervisedLoss(dataset: task.train, output: .logits)
        let outputs = network.forward(
            genomes: genomes, populationSize: P, inputs: task.train.features, batchSize: N, sharedInputs: true)
        var losses = [Float](repeating: 0, count: P)
        var correct = [Int](repeating: 0, count: P)
        outputs.withUnsafeBufferPointer { o in
            losses.withUnsafeMutableBufferPointer {
                loss.forward(losses: $0, outputs: o, populationSize: P, samples: 0..<N)
            }
            loss.correctCounts(&correct, outputs: o, populationSize: P, samples: 0..<N)
        }
        for p in 0..<P {
            if fitness == .accuracy {
                #expect(fitnessValues[p] == Float(correct[p]) / Float(N))
            } else {
                #expect(
                    abs(fitnessValues[p] + losses[p]) <= 2e-6 * max(1, abs(losses[p])),
                    "genome \(p): \(fitnessValues[p]) vs \(-losses[p])")
            }
        }
        let again = try task.evaluate(genomes: genomes, populationSize: P, network: network, generation: 0, seed: 0)
        #expect(again.map(\.bitPattern) == fitnessValues.map(\.bitPattern))
    }

    @Test func reportHasBothSplitsAndJSON() throws {
        let task = try DatasetTask.digits(data: digitsPath)
        let network = try Network(spec: .mlp([64, 16, 10]))
        let genome = population(network, size: 1)
        let report = try task.report(genome: genome, network: network, generation: 0, seed: 0)
        let train = try #require(report.split("train"))
        let test = try #require(report.split("test"))
        #expect(train.samples == 1438 && test.samples == 359)
        #expect(abs(-train.loss - report.fitness) < 1e-6)
        #expect((0...1).contains(try #require(test.accuracy)))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as! [String: Any]
        #expect(json["fitness_name"] as? String == "neg_cross_entropy")
        #expect((json["test"] as? [String: Any])?["samples"] as? Int == 359)
    }

    @Test func wrongNetworkSizesAreRejected() throws {
        let task = try DatasetTask.digits(data: digitsPath)
        let network = try Network(spec: .mlp([64, 9]))
        #expect(throws: TaskError.incompatibleNetwork(task: "digits", what: "output", expected: 10, found: 9)) {
            _ = try task.evaluate(
                genomes: population(network, size: 1), populationSize: 1, network: network, generation: 0, seed: 0)
        }
        #expect(throws: TaskError.self) { try DatasetTask.digits(fitness: .negMSE, data: digitsPath) }
    }

    @Test func probeInputsAreSeededTrainingRows() throws {
        let task = try DatasetTask.digits(data: digitsPath)
        let probe = try #require(task.probeInputs(count: 5, seed: 9))
        #expect(probe.count == 5 * 64)
        #expect(task.probeInputs(count: 5, seed: 9) == probe)
        #expect(task.probeInputs(count: 5, seed: 10) != probe)
        let rows = Set(
            (0..<task.train.sampleCount).map { task.train.features[$0 * 64..<($0 + 1) * 64].map(\.bitPattern) })
        for i in 0..<5 { #expect(rows.contains(probe[i * 64..<(i + 1) * 64].map(\.bitPattern))) }
    }

    /// The differentiable loss is the negated fitness, and its gradient is usable with the
    /// network's backward pass.
    @Test func differentiableLossAgreesWithFitness() throws {
        let task = try DatasetTask.digits(data: digitsPath)
        let network = try Network(spec: .mlp([64, 8, 10]))
        let genomes = population(network, size: 2)
        let fitness = try task.evaluate(genomes: genomes, populationSize: 2, network: network, generation: 0, seed: 0)
        let loss = try #require(task.differentiableLoss(for: network))
        #expect(loss.name == "cross_entropy" && loss.sampleCount == 1438 && loss.outputSize == 10)
        let outputs = network.forward(
            genomes: genomes, populationSize: 2, inputs: loss.inputs, batchSize: 1438, sharedInputs: true)
        var losses: [Float] = [0, 0]
        outputs.withUnsafeBufferPointer { o in
            losses.withUnsafeMutableBufferPointer {
                loss.forward(losses: $0, outputs: o, populationSize: 2, samples: 0..<1438)
            }
        }
        #expect(abs(losses[0] + fitness[0]) < 1e-5 && abs(losses[1] + fitness[1]) < 1e-5)
        // A minibatch range (samples 100 ..< 200, not at the start) reads the matching targets:
        // its loss is the float64 mean cross-entropy of those samples' outputs against their
        // labels, and not against the first 100 labels.
        guard case .classes(let labels, _) = task.train.targets else {
            Issue.record("digits has class targets")
            return
        }
        let slice = Array(outputs[100 * 10..<200 * 10])
        var partial: [Float] = [0]
        slice.withUnsafeBufferPointer { o in
            partial.withUnsafeMutableBufferPointer {
                loss.forward(losses: $0, outputs: o, populationSize: 1, samples: 100..<200)
            }
        }
        func crossEntropy(_ rowLabels: ArraySlice<Int>) -> Double {
            var sum = 0.0
            for (b, y) in rowLabels.enumerated() {
                let z = slice[b * 10..<(b + 1) * 10].map(Double.init)
                let m = z.max()!
                sum += m + Foundation.log(z.map { Foundation.exp($0 - m) }.reduce(0, +)) - z[y]
            }
            return sum / Double(rowLabels.count)
        }
        let matching = crossEntropy(labels[100..<200])
        let shifted = crossEntropy(labels[0..<100])
        #expect(abs(Double(partial[0]) - matching) <= 1e-5 * matching, "loss \(partial[0]), float64 \(matching)")
        #expect(abs(shifted - matching) > 1e-3 * matching, "the first 100 labels would give another loss")
    }

    @Test func csvRegressionTaskStandardisesWithTrainStatistics() throws {
        var lines = ["x1,x2,y"]
        for i in 0..<50 { lines.append("\(i),\(Double(i) * 0.5 + 100),\(3 * Double(i) + 7)") }
        let path = try temporaryFile(lines.joined(separator: "\n"))
        let task = try DatasetTask.csv(path: path, target: "y", kind: .regression)
        #expect(task.fitnessName == "neg_mse" && task.inputSize == 2 && task.outputSize == 1)
        #expect(task.train.sampleCount == 40 && task.test.sampleCount == 10)
        let s = try #require(task.standardization)
        #expect(s.featureNames == ["x1", "x2"])
        let trainMean = (0..<2).map { j in (0..<40).map { Double(task.train.features[$0 * 2 + j]) }.reduce(0, +) / 40 }
        #expect(trainMean.allSatisfy { abs($0) < 1e-5 })
        let network = try Network(spec: .mlp([2, 1]))
        // y = 3·x1 + 7 is linear in the standardised features: the exact weights give zero loss.
        let scale = Double(s.target!.scale)
        let mean = Double(s.target!.mean)
        let w1 = Float(3 * Double(s.scales[0]) / scale)
        let b = Float((3 * Double(s.means[0]) + 7 - mean) / scale)
        let report = try task.report(genome: [w1, 0, b], network: network, generation: 0, seed: 0)
        #expect(report.fitness > -1e-8)
        #expect(try #require(report.split("test")?.rmse) < 1e-3)
    }

    @Test func catalogBuildsEveryBuiltin() throws {
        var options = TaskOptions()
        options.data = digitsPath
        options.episodes = 3
        #expect(try TaskCatalog.make("digits", options: options).outputSize == 10)
        for env in ClassicControl.environments {
            let task = try TaskCatalog.make(env.id, options: options)
            #expect(task.inputSize == env.observationSize && (task as? ControlTask)?.episodes == 3)
        }
        #expect(throws: TaskError.self) { try TaskCatalog.make("CartPole-v0", options: options) }
        let decoded = try JSONDecoder().decode(
            TaskOptions.self, from: Data(#"{"episodes": 4, "fitness": "accuracy"}"#.utf8))
        #expect(decoded.episodes == 4 && decoded.fitness == .accuracy && decoded.testFraction == 0.2)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TaskOptions.self, from: Data(#"{"episode": 4}"#.utf8))
        }
    }
}

@Suite struct PythonWeightsTests {
    struct Expected: Decodable {
        var samples: Int
        var correct: Int
        var accuracy: Double
        var cross_entropy: Double
    }

    /// Weights trained and written by Python (scripts/fixtures/digits_weights.py) score on the
    /// whole digits set (test fraction 0) exactly the accuracy numpy computed, and its loss.
    @Test func safetensorsFromPythonScoreLikeNumpy() throws {
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("digits_mlp_64_32_10.json")))
        let network = try Network(spec: .mlp([64, 32, 10]))
        let genome = try SafeTensors.read(path: fixtures.appendingPathComponent("digits_mlp_64_32_10.safetensors").path)
            .genome(for: network.layout)
        let task = try DatasetTask.digits(testFraction: 0, data: digitsPath)
        let report = try task.report(genome: genome, network: network, generation: 0, seed: 0)
        let all = try #require(report.split("train"))
        #expect(report.split("test") == nil)
        #expect(all.samples == expected.samples)
        #expect(all.accuracy == expected.accuracy)
        #expect(abs(all.loss - expected.cross_entropy) < 1e-5)
    }
}

@Suite struct LossThroughNetworkTests {
    /// The loss gradient sent back through `Network.backward` gives ∂loss/∂genome: checked against
    /// central differences of the loss on a minibatch of digits.
    @Test func genomeGradientMatchesFiniteDifferences() throws {
        let task = try DatasetTask.digits(data: digitsPath)
        let network = try Network(spec: .mlp([64, 4, 10], activation: .tanh))
        let loss = try #require(task.differentiableLoss(for: network))
        let genome = population(network, size: 1, seed: 13)
        let samples = 40..<72
        let B = samples.count
        let x = Array(loss.inputs[samples.lowerBound * 64..<samples.upperBound * 64])
        func lossValue(_ g: [Float]) -> Double {
            let out = network.forward(genomes: g, populationSize: 1, inputs: x, batchSize: B, sharedInputs: true)
            var l: [Float] = [0]
            out.withUnsafeBufferPointer { o in
                l.withUnsafeMutableBufferPointer {
                    loss.forward(losses: $0, outputs: o, populationSize: 1, samples: samples)
                }
            }
            return Double(l[0])
        }
        var outputs = [Float](repeating: 0, count: B * 10)
        var dOutputs = [Float](repeating: 0, count: B * 10)
        var gradient = [Float](repeating: 0, count: network.parameterCount)
        genome.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xin in
                outputs.withUnsafeMutableBufferPointer {
                    network.forwardRecording(genome: g, inputs: xin, batchSize: B, outputs: $0)
                }
            }
            outputs.withUnsafeBufferPointer { o in
                [Float(1)].withUnsafeBufferPointer { dl in
                    dOutputs.withUnsafeMutableBufferPointer {
                        loss.backward(dOutputs: $0, outputs: o, dLosses: dl, populationSize: 1, samples: samples)
                    }
                }
            }
            dOutputs.withUnsafeBufferPointer { d in
                gradient.withUnsafeMutableBufferPointer {
                    network.backward(genome: g, outputGradient: d, parameterGradient: $0, inputGradient: nil)
                }
            }
        }
        let h: Float = 1e-2
        var stream = RandomStream(seed: 2, purpose: "test")
        for _ in 0..<12 {
            let i = stream.below(network.parameterCount)
            var plus = genome
            var minus = genome
            plus[i] += h
            minus[i] -= h
            let numeric = (lossValue(plus) - lossValue(minus)) / Double(2 * h)
            #expect(
                abs(Double(gradient[i]) - numeric) <= 2e-3 + 2e-2 * abs(numeric),
                "parameter \(i): \(gradient[i]) vs \(numeric)")
        }
    }
}
