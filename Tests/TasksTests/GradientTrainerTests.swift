import Foundation
import Kernels
import Networks
import Testing

@testable import Tasks

@Suite struct GradientTrainerTests {
    /// 9 samples of 3 features in 3 classes, from a seeded stream.
    func tinyDataset() -> Dataset {
        var stream = RandomStream(seed: 7, purpose: "tiny-dataset")
        var features = [Float](repeating: 0, count: 27)
        features.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        return Dataset(
            features: features, featureCount: 3, featureNames: ["a", "b", "c"],
            targets: .classes([0, 1, 2, 2, 1, 0, 1, 2, 0], names: ["x", "y", "z"]))
    }

    /// A 3-4-3 tanh MLP (smooth, so finite differences are clean) and a seeded genome.
    func tinyNetwork() throws -> (Network, [Float]) {
        let network = try Network(spec: NetworkSpec.mlp([3, 4, 3], activation: .tanh))
        var stream = RandomStream(seed: 3, purpose: "tiny-genome")
        return (network, network.initializedGenome(stream: &stream))
    }

    func meanLoss(_ loss: SupervisedLoss, network: Network, genome: [Float], samples: Range<Int>) -> Double {
        let inputs = Array(loss.inputs[samples.lowerBound * loss.inputSize..<samples.upperBound * loss.inputSize])
        let outputs = network.forward(
            genomes: genome, populationSize: 1, inputs: inputs, batchSize: samples.count, sharedInputs: true)
        var value: Float = 0
        outputs.withUnsafeBufferPointer { out in
            withUnsafeMutablePointer(to: &value) {
                loss.forward(
                    losses: UnsafeMutableBufferPointer(start: $0, count: 1), outputs: out, populationSize: 1,
                    samples: samples)
            }
        }
        return Double(value)
    }

    @Test("the minibatch gradient matches central finite differences of the mean loss")
    func gradientMatchesFiniteDifferences() throws {
        let dataset = tinyDataset()
        let (network, genome) = try tinyNetwork()
        let trainer = try GradientTrainer(
            network: network, dataset: dataset, genome: genome, batches: RandomStream(seed: 1, purpose: "t"))
        let loss = SupervisedLoss(dataset: dataset, output: .logits)
        let samples = 2..<7
        let value = trainer.computeGradient(loss: loss, samples: samples)
        #expect(abs(Double(value) - meanLoss(loss, network: network, genome: genome, samples: samples)) < 1e-6)
        let h: Float = 1e-2
        var worst = 0.0
        for i in 0..<genome.count {
            var plus = genome
            var minus = genome
            plus[i] += h
            minus[i] -= h
            let numeric =
                (meanLoss(loss, network: network, genome: plus, samples: samples)
                    - meanLoss(loss, network: network, genome: minus, samples: samples)) / Double(2 * h)
            worst = max(worst, abs(numeric - Double(trainer.gradient[i])))
        }
        #expect(worst < 1e-3, "largest |analytic − numeric| over \(genome.count) parameters: \(worst)")
    }

    @Test("two full-batch steps follow Adam's formula, computed by hand in float64")
    func adamStepsByHand() throws {
        let dataset = tinyDataset()
        let (network, genome0) = try tinyNetwork()
        let eta = 0.05
        let beta1 = 0.9
        let beta2 = 0.999
        let epsilon = 1e-8
        // Full batch: every step sees all samples, so the gradient is the full-data gradient.
        let settings = GradientTrainer.Settings(learningRate: Float(eta), batchSize: dataset.sampleCount)
        let trainer = try GradientTrainer(
            network: network, dataset: dataset, genome: genome0, settings: settings,
            batches: RandomStream(seed: 1, purpose: "t"))
        let probeNetwork = try Network(spec: network.spec)
        let loss = SupervisedLoss(dataset: dataset, output: .logits)
        func fullGradient(_ genome: [Float]) throws -> [Double] {
            let fresh = try GradientTrainer(
                network: probeNetwork, dataset: dataset, genome: genome, batches: RandomStream(seed: 2, purpose: "t"))
            _ = fresh.computeGradient(loss: loss, samples: 0..<dataset.sampleCount)
            return fresh.gradient.map(Double.init)
        }

        let g1 = try fullGradient(genome0)
        trainer.step()
        // Step 1: m̂ = g, v̂ = g², so θ moves by −η·g/(|g| + ε): a step of η against the gradient's sign.
        var expected = (0..<genome0.count).map { Double(genome0[$0]) - eta * g1[$0] / (abs(g1[$0]) + epsilon) }
        for i in 0..<genome0.count {
            #expect(abs(Double(trainer.genome[i]) - expected[i]) < 1e-6, "parameter \(i) after step 1")
        }
        let genome1 = trainer.genome
        let g2 = try fullGradient(genome1)
        trainer.step()
        for i in 0..<genome0.count {
            let m = (1 - beta1) * beta1 * g1[i] + (1 - beta1) * g2[i]
            let v = (1 - beta2) * beta2 * g1[i] * g1[i] + (1 - beta2) * g2[i] * g2[i]
            let mHat = m / (1 - beta1 * beta1)
            let vHat = v / (1 - beta2 * beta2)
            expected[i] = Double(genome1[i]) - eta * mHat / (vHat.squareRoot() + epsilon)
            #expect(abs(Double(trainer.genome[i]) - expected[i]) < 1e-5, "parameter \(i) after step 2")
        }
        #expect(trainer.stepsTaken == 2)
    }

    @Test("a small MLP's loss on digits falls substantially in 150 steps")
    func lossFallsOnDigits() throws {
        let task = try DatasetTask.digits(data: digitsPath)
        let network = try Network(spec: NetworkSpec.parse("mlp:64-16-10"))
        var initStream = RandomStream(seed: 0, purpose: "zoo-init")
        let trainer = try GradientTrainer(
            network: network, task: task, genome: network.initializedGenome(stream: &initStream),
            batches: RandomStream(seed: 0, purpose: "zoo-batches"))
        let before = try task.report(genome: trainer.genome, network: network, generation: 0, seed: 0)
        try trainer.train(steps: 150)
        let after = try task.report(genome: trainer.genome, network: network, generation: 0, seed: 0)
        let loss = try #require(after.split("train")?.loss)
        #expect(try #require(before.split("train")?.loss) > 2)
        #expect(loss < 0.5, "training loss after 150 steps: \(loss)")
        #expect(try #require(after.split("test")?.accuracy) > 0.85)
    }

    @Test("checkpoints fire at the listed step counts, 0 included, and see the genome of that step")
    func checkpoints() throws {
        let dataset = tinyDataset()
        let (network, genome) = try tinyNetwork()
        let settings = GradientTrainer.Settings(batchSize: 4)
        let trainer = try GradientTrainer(
            network: network, dataset: dataset, genome: genome, settings: settings,
            batches: RandomStream(seed: 5, purpose: "t"))
        var seen: [Int: [Float]] = [:]
        trainer.train(steps: 5, checkpoints: [0, 2, 5, 9]) { seen[$0] = trainer.genome }
        #expect(seen.keys.sorted() == [0, 2, 5])
        #expect(seen[0] == genome)
        #expect(seen[5] == trainer.genome)
        #expect(seen[2] != genome && seen[2] != trainer.genome)

        // The same stream reproduces the run; another stream draws other minibatches.
        let again = try GradientTrainer(
            network: network, dataset: dataset, genome: genome, settings: settings,
            batches: RandomStream(seed: 5, purpose: "t"))
        try again.train(steps: 5)
        #expect(again.genome == trainer.genome)
        let other = try GradientTrainer(
            network: network, dataset: dataset, genome: genome, settings: settings,
            batches: RandomStream(seed: 6, purpose: "t"))
        try other.train(steps: 5)
        #expect(other.genome != trainer.genome)
    }

    @Test(
        "an epoch uses every sample once: with B = 3 of 9 samples, the 3 minibatch gradients average to the full gradient"
    )
    func epochCoversEverySample() throws {
        let dataset = tinyDataset()
        let (network, genome) = try tinyNetwork()
        let trainer = try GradientTrainer(
            network: network, dataset: dataset, genome: genome, settings: GradientTrainer.Settings(batchSize: 3),
            batches: RandomStream(seed: 11, purpose: "t"))
        // Gradients at a fixed genome (no update): each batch's mean gradient, summed over the
        // epoch's 3 batches and divided by 3, is the full-data mean gradient only if the batches
        // partition the samples.
        var sum = [Double](repeating: 0, count: genome.count)
        for _ in 0..<3 {
            _ = trainer.nextBatchGradient()
            for i in 0..<genome.count { sum[i] += Double(trainer.gradient[i]) / 3 }
        }
        _ = trainer.computeGradient(loss: SupervisedLoss(dataset: dataset, output: .logits), samples: 0..<9)
        for i in 0..<genome.count {
            #expect(abs(sum[i] - Double(trainer.gradient[i])) < 1e-5, "parameter \(i)")
        }
    }

    @Test("a network whose sizes do not fit the data, or bad settings, are refused")
    func refusesMismatch() throws {
        let dataset = tinyDataset()
        let wide = try Network(spec: NetworkSpec.mlp([4, 3]))
        #expect(throws: TaskError.self) {
            try GradientTrainer(
                network: wide, dataset: dataset, genome: [Float](repeating: 0, count: wide.parameterCount),
                batches: RandomStream(seed: 1, purpose: "t"))
        }
        let (network, genome) = try tinyNetwork()
        #expect(throws: TaskError.self) {
            try GradientTrainer(
                network: network, dataset: dataset, genome: Array(genome.dropLast()),
                batches: RandomStream(seed: 1, purpose: "t"))
        }
        #expect(throws: TaskError.self) {
            try GradientTrainer(
                network: network, dataset: dataset, genome: genome, settings: GradientTrainer.Settings(batchSize: 0),
                batches: RandomStream(seed: 1, purpose: "t"))
        }
    }
}
