import Kernels
import Networks
import Tasks
import Testing

@testable import MetaLearning

@Suite struct RetentionTests {
    @Test func ratiosForPositiveAndNegativeFitness() {
        #expect(Retention.fitnessRetention([-0.5, -1], [-1, -1]) == 0.75)
        #expect(Retention.fitnessRetention([0.8, 0.5], [0.4, 0.5]) == 0.75)
        #expect(Retention.fitnessRetention([-0.5], [-.infinity]) == 0)
        #expect(Retention.fitnessRetention([-0.5, 0.5], [-0.5, 0.5]) == nil)
    }

    @Test func identicalGenomesRetainEverything() throws {
        let task = try syntheticTask(samples: 60, classes: 3)
        let network = try Network(spec: .mlp([3, 6, 3]))
        let records = try scoredRecords(network, task: task, count: 4, seed: 2)
        let genomes = records.flatMap(\.genome)
        let report = try Retention.compare(original: genomes, decoded: genomes, batch: 4, network: network, task: task)
        #expect(report.fitnessRetention == 1 && report.reconstructionError == 0)
        #expect(report.accuracyDrop == 0 && report.predictionAgreement == 1 && report.accuracyRetention == 1)
        #expect(report.testAccuracy == report.decodedTestAccuracy)
        #expect(report.predictionDiversity == report.decodedPredictionDiversity && report.predictionDiversity! > 0)
        // every genome decoded to the first: no diversity left
        let collapsed = Array(repeating: records[0].genome, count: 4).flatMap { $0 }
        let degenerate = try Retention.compare(
            original: genomes, decoded: collapsed, batch: 4, network: network, task: task)
        #expect(degenerate.decodedPredictionDiversity == 0)
    }

    @Test func reconstructionErrorIsTheLossTerm() throws {
        let task = try syntheticTask(samples: 60, classes: 3)
        let network = try Network(spec: .mlp([3, 6, 3]))
        let genomes = try scoredRecords(network, task: task, count: 3, seed: 2).flatMap(\.genome)
        let model = try AttentionAutoencoder(config: tinyConfig(), seed: 3)
        let tokenizer = Tokenizer(layout: network.layout, tokenValues: tinyConfig().tokenValues)
        let decoded = model.reconstruct(genomes: genomes, batch: 3, tokenizer: tokenizer)
        let report = try Retention.compare(original: genomes, decoded: decoded, batch: 3, network: network, task: task)
        let loss = MetaLoss(network: network, tokenizer: tokenizer, probe: nil)
        let terms = loss.forward(
            decoded: tokenizer.tokenize(decoded, batch: 3), original: tokenizer.tokenize(genomes, batch: 3),
            genomes: genomes, predictions: [0, 0, 0], targets: [0, 0, 0], batch: 3, withProbe: false)
        #expect(abs(report.reconstructionError - terms.reconstruction) < 1e-9 * terms.reconstruction)
        #expect(report.reconstructionError > 0)
        #expect((0...1).contains(report.predictionAgreement!))
    }
}
