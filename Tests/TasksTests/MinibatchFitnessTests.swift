import Foundation
import Kernels
import Networks
import Testing

@testable import Tasks

/// `task.options.batch`: every genome of a generation on the same seeded minibatch.
@Suite struct MinibatchFitnessTests {
    @Test func batchIsDistinctSortedSeededAndChangesWithGeneration() throws {
        let task = try DatasetTask.digits(data: digitsPath, batch: 64)
        let first = task.minibatchIndices(generation: 3, seed: 7)
        #expect(first.count == 64 && Set(first).count == 64)
        #expect(first == first.sorted() && first.allSatisfy { $0 >= 0 && $0 < task.train.sampleCount })
        #expect(task.minibatchIndices(generation: 3, seed: 7) == first, "the same (seed, generation), the same batch")
        #expect(task.minibatchIndices(generation: 4, seed: 7) != first)
        #expect(task.minibatchIndices(generation: 3, seed: 8) != first)
        #expect(task.rescoresSurvivors)
        #expect(try !DatasetTask.digits(data: digitsPath).rescoresSurvivors)
        // Over many generations every sample is drawn about equally often (1,438 samples, 64 each).
        var counts = [Int](repeating: 0, count: task.train.sampleCount)
        for g in 0..<450 { for i in task.minibatchIndices(generation: g, seed: 1) { counts[i] += 1 } }
        // Each count is Binomial(450, 64/1438): mean 20.0, standard deviation 4.4.
        #expect(counts.min()! >= 3 && counts.max()! <= 45)
    }

    @Test func fitnessIsTheLossOnTheBatchWhateverPopulationAGenomeIsIn() throws {
        let batched = try DatasetTask.digits(data: digitsPath, batch: 32)
        let network = try Network(spec: .mlp([64, 8, 10]))
        let P = 6
        let n = network.parameterCount
        let genomes = population(network, size: P)
        let all = try batched.evaluate(genomes: genomes, populationSize: P, network: network, generation: 5, seed: 2)
        // The same genomes split into two populations (two islands) score the same in generation 5:
        // the same batch. Not to the bit: the populations stack into GEMMs of other heights, and
        // OpenBLAS's edge micro-kernels (e.g. OPENBLAS_CORETYPE=Haswell on an AVX-512 EPYC) sum in
        // another order (seen: −2.3021657 against −2.302166). An island always scores its own
        // population as one, so runs keep their bits on any rank count (IslandAlgorithmRunTests).
        let a = try batched.evaluate(
            genomes: Array(genomes[0..<2 * n]), populationSize: 2, network: network, generation: 5, seed: 2)
        let b = try batched.evaluate(
            genomes: Array(genomes[2 * n..<P * n]), populationSize: 4, network: network, generation: 5, seed: 2)
        for (x, y) in zip(all, a + b) { #expect(abs(x - y) <= 4 * y.ulp, "\(x) vs \(y)") }
        // It is the whole-split fitness of a task whose training split is that batch.
        let indices = batched.minibatchIndices(generation: 5, seed: 2)
        let onBatch = try DatasetTask(
            name: "batch", train: batched.train.subset(indices), test: batched.test, fitness: .negCrossEntropy)
        #expect(
            all == (try onBatch.evaluate(genomes: genomes, populationSize: P, network: network, generation: 0, seed: 0))
        )
        let next = try batched.evaluate(genomes: genomes, populationSize: P, network: network, generation: 6, seed: 2)
        #expect(next != all, "another generation, another batch")
        // The report scores every sample whatever the batch.
        let report = try batched.report(genome: Array(genomes[0..<n]), network: network, generation: 5, seed: 2)
        #expect(report.fitness == Double(all[0]))
        #expect(report.split("train")?.samples == 1438 && report.split("test")?.samples == 359)
    }

    @Test func batchWorksForCSVAndIsCheckedByTheCatalog() throws {
        var rows = "x,y,label\n"
        for i in 0..<40 { rows += "\(i % 7),\(i % 5),\(i % 2 == 0 ? "even" : "odd")\n" }
        var options = TaskOptions()
        options.batch = 8
        let task = try #require(
            try TaskCatalog.make("csv:\(try temporaryFile(rows))", options: options) as? DatasetTask)
        #expect(task.batch == 8 && task.minibatchIndices(generation: 1, seed: 0).count == 8)
        options.batch = 33
        #expect(throws: TaskError.self, "more than the 32 training rows") {
            try TaskCatalog.make("csv:\(try temporaryFile(rows))", options: options)
        }
        options.batch = 0
        #expect(throws: TaskError.self) { try TaskCatalog.make("digits", options: options) }
        options.batch = 16
        #expect(throws: TaskError.self, "batch is for datasets") {
            try TaskCatalog.make("CartPole-v1", options: options)
        }
        let decoded = try JSONDecoder().decode(TaskOptions.self, from: Data(#"{"batch": 256, "eval_every": 50}"#.utf8))
        #expect(decoded.batch == 256 && decoded.evalEvery == 50)
        options.batch = nil
        options.evalEvery = 0
        #expect(throws: TaskError.self) { try TaskCatalog.make("digits", options: options) }
    }
}
