import Collectives
import Foundation
import Kernels
import Networks
import Tasks
import Testing

@testable import MetaLearning

/// `count` genomes of `network`, PyTorch-initialised with seeds from `seed`, scored on `task`.
func scoredRecords(_ network: Network, task: DatasetTask, count: Int, seed: UInt64) throws -> [MetaRecord] {
    var stream = RandomStream(seed: seed, purpose: "records")
    var genomes: [Float] = []
    for _ in 0..<count { genomes += network.initializedGenome(stream: &stream) }
    let fitness = try task.evaluate(genomes: genomes, populationSize: count, network: network, generation: 0, seed: 0)
    let n = network.parameterCount
    return (0..<count).map { MetaRecord(genome: Array(genomes[$0 * n..<($0 + 1) * n]), fitness: fitness[$0]) }
}

func tinySettings() -> MetaTrainingSettings {
    var settings = MetaTrainingSettings()
    settings.batchSize = 3
    settings.warmupSteps = 2
    settings.totalSteps = 20
    settings.learningRate = 3e-3
    settings.probeCount = 8
    settings.seed = 5
    return settings
}

@Suite struct MetaTrainerTests {
    @Test func twoRanksWithDifferentRecordsEndIdentical() throws {
        let task = try syntheticTask()
        let spec = NetworkSpec.mlp([3, 4, 2], activation: .tanh)
        let perRank = try LocalCommunicator.run(size: 2) { comm -> [UInt32] in
            let network = try Network(spec: spec)
            let records = try scoredRecords(network, task: task, count: 5, seed: UInt64(100 + comm.rank))
            let group = try MetaLayoutGroup(
                network: network, records: records, task: task, config: tinyConfig(), settings: tinySettings())
            let model = try AttentionAutoencoder(config: tinyConfig(), seed: 1)
            let trainer = try MetaTrainer(model: model, settings: tinySettings())
            let size = Float(comm.size)
            trainer.synchronizeGradients = { buffer in
                try ReproducibleAllreduce.sum(buffer, communicator: comm)
                for i in buffer.indices { buffer[i] /= size }
            }
            try trainer.train(groups: [group], steps: 3, round: 0, island: comm.rank)
            return Array(model.parameters).map(\.bitPattern) + Array(trainer.m).map(\.bitPattern)
                + trainer.normalizers!.values.map { Float($0).bitPattern }
        }
        #expect(
            perRank[0] == perRank[1],
            "ranks disagree on \(zip(perRank[0], perRank[1]).filter { $0 != $1 }.count) values")
        let initial = try AttentionAutoencoder(config: tinyConfig(), seed: 1)
        #expect(
            Array(initial.parameters).map(\.bitPattern) != Array(perRank[0].prefix(initial.parameters.count)),
            "training changed nothing")

        // without the hook, the same two ranks drift apart: the test above can fail
        let unsynchronised = try LocalCommunicator.run(size: 2) { comm -> [Float] in
            let network = try Network(spec: spec)
            let records = try scoredRecords(network, task: task, count: 5, seed: UInt64(100 + comm.rank))
            let group = try MetaLayoutGroup(
                network: network, records: records, task: task, config: tinyConfig(), settings: tinySettings())
            let trainer = try MetaTrainer(
                model: try AttentionAutoencoder(config: tinyConfig(), seed: 1), settings: tinySettings())
            try trainer.train(groups: [group], steps: 3, round: 0, island: comm.rank)
            return Array(trainer.model.parameters)
        }
        #expect(unsynchronised[0] != unsynchronised[1])
    }

    @Test func resumingFromFilesMatchesUninterruptedTraining() throws {
        let task = try syntheticTask()
        let network = try Network(spec: .mlp([3, 4, 2], activation: .tanh))
        let records = try scoredRecords(network, task: task, count: 6, seed: 3)
        func group() throws -> MetaLayoutGroup {
            try MetaLayoutGroup(
                network: network, records: records, task: task, config: tinyConfig(), settings: tinySettings())
        }
        let straight = try MetaTrainer(
            model: try AttentionAutoencoder(config: tinyConfig(), seed: 4), settings: tinySettings())
        try straight.train(groups: [group()], steps: 3, round: 0)
        try straight.train(groups: [group()], steps: 3, round: 1)

        let first = try MetaTrainer(
            model: try AttentionAutoencoder(config: tinyConfig(), seed: 4), settings: tinySettings())
        try first.train(groups: [group()], steps: 3, round: 0)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = MetaLearnerPaths(directory.appendingPathComponent("meta-learner.safetensors").path)
        try first.save(to: paths)
        let resumed = try MetaTrainer.load(from: paths, config: tinyConfig())
        #expect(resumed.step == 3 && resumed.normalizers == first.normalizers)
        try resumed.train(groups: [group()], steps: 3, round: 1)

        #expect(Array(resumed.model.parameters).map(\.bitPattern) == Array(straight.model.parameters).map(\.bitPattern))
        #expect(Array(resumed.m).map(\.bitPattern) == Array(straight.m).map(\.bitPattern))
        #expect(Array(resumed.v).map(\.bitPattern) == Array(straight.v).map(\.bitPattern))
        #expect(resumed.step == 6)

        var other = tinyConfig()
        other.latentWidth = 5
        do {
            _ = try MetaTrainer.load(from: paths, config: other)
            Issue.record("a file for another configuration was accepted")
        } catch let error as MetaLearnerFileError {
            #expect(error.message.contains("latentWidth is 3 in the file, 5 in the configuration"), "\(error)")
        }
    }

    @Test func lossFallsOnAFixedBatch() throws {
        let task = try syntheticTask()
        let network = try Network(spec: .mlp([3, 4, 2], activation: .tanh))
        let records = try scoredRecords(network, task: task, count: 3, seed: 9)
        let group = try MetaLayoutGroup(
            network: network, records: records, task: task, config: tinyConfig(), settings: tinySettings())
        let trainer = try MetaTrainer(
            model: try AttentionAutoencoder(config: tinyConfig(), seed: 2), settings: tinySettings())
        let results = try (0..<30).map { _ in try trainer.trainStep(records, group: group) }
        let first = results[0].total
        let last = results.last!.total
        // each term over its own first value is 1, so the first total is Σ w_k = 1 + 1 + 0.5 + 0.1
        #expect(abs(first - 2.6) < 1e-5, "first normalised total \(first)")
        #expect(last < 0.5 * first, "loss went from \(first) to \(last)")
    }

    @Test func settingsFileRejectsUnknownKeys() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meta-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "model:\n  latents: 4\ntraining:\n  batch_size: 8\n  w_beh: 0\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let setup = try MetaLearnerSetup.load(path: path)
        #expect(setup.model.latents == 4 && setup.training.batchSize == 8 && setup.training.wBeh == 0)
        try "training:\n  batch_sise: 8\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try MetaLearnerSetup.load(path: path)
            Issue.record("an unknown key was accepted")
        } catch let error as MetaLearnerConfigError {
            #expect(error.field == "batch_sise" && error.message.contains(path), "\(error)")
        }
    }
}
