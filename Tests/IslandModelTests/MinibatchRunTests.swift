import Collectives
import Foundation
import Testing

@testable import IslandModel

/// Runs with minibatch fitness (`task.options.batch`): the same bits on any rank count, elites
/// re-scored on every generation's batch, full evaluations in `metrics.jsonl`.
@Suite("Minibatch runs", .serialized)
struct MinibatchRunTests {
    static let config = """
        seed: 5
        task: {name: digits, options: {batch: 48, eval_every: 2}}
        network: mlp:64-6-10
        islands: {count: 4, population: 6}
        migration: {interval: 2, count: 1}
        evolution: {mutation_rate: 0.1, elites: 1}
        stop: {generations: 5}
        output: {checkpoint_every: 2}
        """

    static func lines(_ directory: URL) throws -> [[String: Any]] {
        try String(decoding: Data(contentsOf: directory.appendingPathComponent("metrics.jsonl")), as: UTF8.self)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    @Test("the same metrics.jsonl and best.safetensors on 1 and 2 ranks, with full evaluations every 2 generations")
    func sameBitsOnOneAndTwoRanks() throws {
        let config = try RunConfig.parse(Self.config)
        var outputs: [[Data]] = []
        var full: [[String: Any]] = []
        var islandLines: [[String: Any]] = []
        for ranks in [1, 2] {
            let directory = RunTests.folder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try RunTests.run(config, ranks: ranks, in: directory)
            outputs.append(try ["metrics.jsonl", "best.safetensors"].map { try RunTests.bytes(directory, $0) })
            let all = try Self.lines(directory)
            full = all.filter { $0["kind"] as? String == "full_evaluation" }
            islandLines = all.filter { $0["kind"] == nil }
            let summary =
                try JSONSerialization.jsonObject(with: RunTests.bytes(directory, "summary.json")) as! [String: Any]
            #expect(summary["testAccuracy"] as? Double == full.last?["test_accuracy"] as? Double)
            #expect(summary["trainAccuracy"] as? Double == full.last?["train_accuracy"] as? Double)
        }
        #expect(outputs[0] == outputs[1])
        #expect(full.map { $0["generation"] as! Int } == [2, 4, 5], "every 2 generations and after the last")
        for line in full {
            let accuracy = try #require(line["test_accuracy"] as? Double)
            #expect(accuracy > 0 && accuracy <= 1 && line["train_loss"] is Double)
        }
        // Elites are scored again each generation: an island evaluates its whole population.
        let island0 = islandLines.filter { $0["island"] as! Int == 0 }.map { $0["evaluations"] as! Int }
        #expect(island0 == (0...5).map { 6 * ($0 + 1) })
    }

    /// configs/tiny-latent.yaml with minibatch fitness: in the absolute latent phase the elite is
    /// scored again too, so every latent generation evaluates the whole population (6, or 12 when a
    /// training round re-encoded it), never the 5 children alone; the same bits on 1 and 2 ranks.
    @Test func latentPhaseRescoresElites() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../configs/tiny-latent.yaml"
        ).standardized.path
        var config = try RunConfig.load(path: path)
        config.task = try RunConfig.parse("task: {name: digits, options: {batch: 48}}").task
        var outputs: [Data] = []
        for ranks in [1, 2] {
            let directory = RunTests.folder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try RunTests.run(config, ranks: ranks, in: directory)
            outputs.append(try RunTests.bytes(directory, "metrics.jsonl"))
            let island0 = try Self.lines(directory).filter { $0["kind"] == nil && $0["island"] as! Int == 0 }
            var latentSteps: [Int] = []
            for (before, line) in zip(island0, island0.dropFirst())
            where line["phase"] as? String == "latent" && before["phase"] as? String == "latent" {
                latentSteps.append((line["evaluations"] as! Int) - (before["evaluations"] as! Int))
            }
            #expect(!latentSteps.isEmpty, "the run reaches the latent phase")
            #expect(latentSteps.allSatisfy { $0 == 6 || $0 == 12 }, "\(latentSteps)")
        }
        #expect(outputs[0] == outputs[1])
    }

    @Test("resumed from generation 4 on 4 ranks, a minibatch run ends as an uninterrupted one")
    func resumeMatches() throws {
        let config = try RunConfig.parse(Self.config)
        let reference = RunTests.folder()
        let interrupted = RunTests.folder()
        defer { for d in [reference, interrupted] { try? FileManager.default.removeItem(at: d) } }
        try RunTests.run(config, ranks: 1, in: reference)
        try RunTests.run(config, ranks: 2, in: interrupted)
        let fm = FileManager.default
        try fm.removeItem(at: interrupted.appendingPathComponent("checkpoints/00000005"))
        for name in ["best.safetensors", "summary.json"] {
            try fm.removeItem(at: interrupted.appendingPathComponent(name))
        }
        _ = try LocalCommunicator.run(size: 4) { comm in
            try Run.resume(directory: interrupted, communicator: comm, options: RunTests.quiet())
        }
        #expect(try RunTests.bytes(interrupted, "metrics.jsonl") == RunTests.bytes(reference, "metrics.jsonl"))
        #expect(try RunTests.bytes(interrupted, "best.safetensors") == RunTests.bytes(reference, "best.safetensors"))
    }

    @Test("without a batch, elites keep their scores and no full-evaluation lines are written")
    func fullDataRunsAreUnchanged() throws {
        let config = try RunConfig.parse(
            Self.config.replacingOccurrences(of: "options: {batch: 48, eval_every: 2}", with: "options: {}"))
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(config, ranks: 1, in: directory)
        let all = try Self.lines(directory)
        #expect(all.allSatisfy { $0["kind"] == nil })
        #expect(
            all.filter { $0["island"] as! Int == 0 }.map { $0["evaluations"] as! Int } == (0...5).map { 6 + 5 * $0 })
    }
}
