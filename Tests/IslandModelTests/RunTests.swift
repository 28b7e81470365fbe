import Collectives
import Foundation
import Testing

@testable import IslandModel

/// Whole runs on `LocalCommunicator` ranks: the same bits at any rank count, resume, corrupt
/// checkpoints, bad configurations.
@Suite("Run", .serialized)
struct RunTests {
    static let tiny = """
        seed: 3
        network: mlp:64-6-10
        islands: {count: 4, population: 6}
        migration: {interval: 2, count: 1}
        evolution: {mutation_rate: 0.1}
        stop: {generations: 6}
        output: {checkpoint_every: 2}
        """

    /// `tiny` through the latent phase, with a meta-learner small enough for debug builds.
    static let tinyLatent =
        tiny + """

            latent: {enabled: true, warmup_generations: 2, retention_threshold: 0.3, weight_space_share: 0.34, mutation_sigma: 0.2}
            meta:
              architecture: {tokenValues: 16, width: 16, heads: 2, mlpRatio: 2, tokenMlpRatio: 1, encoderTokenLayers: 1, window: 8,
                             encoderLatentLayers: 1, decoderLatentLayers: 1, latents: 2, latentWidth: 4, fourierFrequencies: 2, fitnessHidden: 8}
              train_every: 2
              steps: 2
              batch: 4
              archive_size: 16
              probe_count: 16
              checksum_every: 1
            """

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("atoll-run-\(UUID().uuidString)")
    }

    static func quiet() -> Run.Options {
        var options = Run.Options()
        options.output = { _ in }
        options.warn = { _ in }
        return options
    }

    /// Runs `config` on `ranks` local ranks into `directory`.
    static func run(_ config: RunConfig, ranks: Int, in directory: URL, options: Run.Options = quiet()) throws {
        _ = try LocalCommunicator.run(size: ranks) { comm in
            try Run.start(config: config, directory: directory, communicator: comm, options: options)
        }
    }

    static func resume(_ directory: URL, ranks: Int, options: Run.Options = quiet()) throws {
        _ = try LocalCommunicator.run(size: ranks) { comm in
            try Run.resume(directory: directory, communicator: comm, options: options)
        }
    }

    static func bytes(_ directory: URL, _ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    @Test("the same config gives the same metrics.jsonl and best.safetensors on 1, 2 and 4 ranks")
    func sameBitsAnyRankCount() throws {
        let config = try RunConfig.parse(Self.tiny)
        var outputs: [(Data, Data)] = []
        for ranks in [1, 2, 4] {
            let directory = Self.folder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try Self.run(config, ranks: ranks, in: directory)
            outputs.append((try Self.bytes(directory, "metrics.jsonl"), try Self.bytes(directory, "best.safetensors")))
        }
        let lines = String(decoding: outputs[0].0, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 4 * 7, "4 islands × generations 0…6")
        for other in outputs.dropFirst() {
            #expect(other.0 == outputs[0].0)
            #expect(other.1 == outputs[0].1)
        }
    }

    @Test("through the latent phase: the same metrics, meta.jsonl, best network and meta-learner on 1, 2 and 4 ranks")
    func latentSameBits() throws {
        let config = try RunConfig.parse(Self.tinyLatent)
        let names = ["metrics.jsonl", "meta.jsonl", "best.safetensors", "meta-learner.safetensors"]
        var outputs: [[Data]] = []
        for ranks in [1, 2, 4] {
            let directory = Self.folder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try Self.run(config, ranks: ranks, in: directory)
            outputs.append(try names.map { try Self.bytes(directory, $0) })
        }
        let phases = String(decoding: outputs[0][0], as: UTF8.self).split(separator: "\n").map {
            $0.contains("\"phase\":\"latent\"")
        }
        #expect(phases.contains(true), "the run reaches the latent phase")
        #expect(
            String(decoding: outputs[0][1], as: UTF8.self).split(separator: "\n").count == 3,
            "training rounds after generations 2, 4, 6")
        for other in outputs.dropFirst() { #expect(other == outputs[0]) }
    }

    @Test(
        "surrogate pre-screening changes which children are evaluated, not how many, and keeps the same bits on 1 and 2 ranks"
    )
    func surrogate() throws {
        var config = try RunConfig.parse(Self.tinyLatent)
        let plain = Self.folder()
        defer { try? FileManager.default.removeItem(at: plain) }
        try Self.run(config, ranks: 1, in: plain)
        config.latent.surrogateFactor = 3
        var outputs: [Data] = []
        for ranks in [1, 2] {
            let directory = Self.folder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try Self.run(config, ranks: ranks, in: directory)
            outputs.append(try Self.bytes(directory, "metrics.jsonl"))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0] != (try Self.bytes(plain, "metrics.jsonl")))
        func evaluations(_ data: Data) -> [Int] {
            String(decoding: data, as: UTF8.self).split(separator: "\n").map {
                (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["evaluations"] as! Int
            }
        }
        #expect(evaluations(outputs[0]) == evaluations(try Self.bytes(plain, "metrics.jsonl")))
    }

    @Test("a latent run resumed from generation 4 on another rank count ends as an uninterrupted one")
    func latentResume() throws {
        let config = try RunConfig.parse(Self.tinyLatent)
        let reference = Self.folder()
        let interrupted = Self.folder()
        defer { for d in [reference, interrupted] { try? FileManager.default.removeItem(at: d) } }
        try Self.run(config, ranks: 1, in: reference)
        try Self.run(config, ranks: 4, in: interrupted)
        try FileManager.default.removeItem(at: interrupted.appendingPathComponent("checkpoints/00000006"))
        try Self.resume(interrupted, ranks: 2)
        for name in ["metrics.jsonl", "meta.jsonl", "best.safetensors", "meta-learner.safetensors"] {
            #expect(try Self.bytes(interrupted, name) == Self.bytes(reference, name), "\(name)")
        }
    }

    @Test("resuming after the last checkpoint, on another rank count, ends as an uninterrupted run")
    func resumeMatches() throws {
        let config = try RunConfig.parse(Self.tiny)
        let reference = Self.folder()
        let interrupted = Self.folder()
        defer { for d in [reference, interrupted] { try? FileManager.default.removeItem(at: d) } }
        try Self.run(config, ranks: 1, in: reference)
        try Self.run(config, ranks: 2, in: interrupted)
        // As if killed after the checkpoint of generation 4: the final checkpoint and results are
        // gone, and the log has lines past the checkpoint that the resume must cut off.
        let fm = FileManager.default
        try fm.removeItem(at: interrupted.appendingPathComponent("checkpoints/00000006"))
        for name in ["best.safetensors", "summary.json"] {
            try fm.removeItem(at: interrupted.appendingPathComponent(name))
        }
        let log = try FileHandle(forWritingTo: interrupted.appendingPathComponent("metrics.jsonl"))
        try log.seekToEnd()
        try log.write(contentsOf: Data("{\"generation\":5,\"partial\":true}\n".utf8))
        try log.close()

        try Self.resume(interrupted, ranks: 4)
        #expect(try Self.bytes(interrupted, "metrics.jsonl") == Self.bytes(reference, "metrics.jsonl"))
        #expect(try Self.bytes(interrupted, "best.safetensors") == Self.bytes(reference, "best.safetensors"))
    }

    @Test("a truncated checkpoint file is detected, named, and the previous checkpoint used")
    func truncatedCheckpoint() throws {
        let config = try RunConfig.parse(Self.tiny)
        let reference = Self.folder()
        let damaged = Self.folder()
        defer { for d in [reference, damaged] { try? FileManager.default.removeItem(at: d) } }
        try Self.run(config, ranks: 1, in: reference)
        try Self.run(config, ranks: 1, in: damaged)
        // The newest checkpoint (the one written at the end) loses half of one island's file.
        let island = damaged.appendingPathComponent("checkpoints/00000006/island-00002.bin")
        let original = try Data(contentsOf: island)
        try original.prefix(original.count / 2).write(to: island)

        let warnings = Warnings()
        var options = Self.quiet()
        options.warn = { warnings.add($0) }
        try Self.resume(damaged, ranks: 2, options: options)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("00000006") == true)
        #expect(warnings.all.first?.contains("island-00002.bin has") == true)
        #expect(try Self.bytes(damaged, "metrics.jsonl") == Self.bytes(reference, "metrics.jsonl"))
        #expect(try Self.bytes(damaged, "best.safetensors") == Self.bytes(reference, "best.safetensors"))
    }

    @Test("more ranks than islands, a missing dataset, or an existing run fail and leave the folder untouched")
    func badStartsLeaveFolderAlone() throws {
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try RunConfig.parse(Self.tiny)
        try Self.run(config, ranks: 1, in: directory)
        let before = try snapshot(directory)

        func failure(_ config: RunConfig, ranks: Int) -> String {
            do {
                try Self.run(config, ranks: ranks, in: directory)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(failure(config, ranks: 5).contains("launched 5 ranks for 4 islands"))
        var missingData = config
        missingData.task.options.data = "/nonexistent/digits.csv.gz"
        #expect(failure(missingData, ranks: 2).contains("/nonexistent/digits.csv.gz"))
        #expect(failure(config, ranks: 2).contains("already holds a run"))
        #expect(try snapshot(directory) == before)
    }

    @Test("a finished run is not resumed again")
    func finishedRun() throws {
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.run(try RunConfig.parse(Self.tiny), ranks: 1, in: directory)
        let results = try LocalCommunicator.run(size: 1) { comm in
            try Run.resume(directory: directory, communicator: comm, options: Self.quiet()) == nil
        }
        #expect(results == [true])
    }

    /// Every file's path and contents under `directory`.
    func snapshot(_ directory: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory.path)!
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[path] = try Data(contentsOf: url)
            }
        }
        return result
    }
}

/// Warnings collected from rank threads.
final class Warnings: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSLock()
    func add(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}
