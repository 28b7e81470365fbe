import Foundation
import Testing

/// Inputs that used to end in a runtime trap (exit 132) or a hang: each must now be a clear error
/// (exit 1, or 64 for a command-line check) naming what is wrong, or work.
@Suite("atoll on absurd sizes and damaged inputs")
struct FaultInputTests {
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-faults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs `atoll run` on `config` in a fresh folder and returns its output.
    static func run(config: String, extra: [String] = [], shell: String? = nil) throws -> AtollProcess.Output {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("config.yaml")
        try config.write(to: path, atomically: true, encoding: .utf8)
        let arguments = ["run", path.path, "--out", folder.appendingPathComponent("run").path] + extra
        guard let shell else { return try AtollProcess.run(arguments, killAfter: 120) }
        // Through /bin/sh, for a `ulimit` before the command.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", shell + "; exec \"$0\" \"$@\"", AtollProcess.executable.path] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }

    @Test(
        "sizes past the integer limits are errors naming the key, not traps",
        arguments: [
            (
                "islands: {count: 1, population: 1152921504606846976}\nstop: {generations: 2}\n",
                "more memory than can be counted"
            ),
            (
                "network: mlp:64-4294967296-4294967296-10\nstop: {generations: 2}\n",
                "layer 0's output [4294967296] holds more than 2147483647 values"
            ),
            (
                "network: mlp:64-65536-65536-10\nstop: {generations: 2}\n",
                "takes the network past 2147483647 parameters"
            ),
            (
                "task: {name: 'external:/bin/cat', options: {timeout: 2e10}}\nnetwork: mlp:4-2\n",
                "timeout must be at most 1000000 seconds"
            ),
            (
                "task: {name: 'external:/bin/cat', options: {timeout: 1e308}}\nnetwork: mlp:4-2\n",
                "timeout must be at most 1000000 seconds"
            ),
        ])
    func hugeSizes(config: String, message: String) throws {
        let result = try Self.run(config: config)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
    }

    @Test(
        "a run whose populations do not fit the physical memory is refused before generation 0, naming estimate and limit"
    )
    func physicalMemory() throws {
        // 8 islands × 4096 × 17,088,522 parameters × 4 B × 3 copies ≈ 6.7 TB.
        let result = try Self.run(
            config: "network: mlp:64-4096-4096-10\nislands: {count: 8, population: 4096}\nstop: {generations: 1}\n")
        #expect(result.status == 1)
        #expect(
            result.standardError.contains("the run needs about 6.7 TB more memory per process"),
            "\(result.standardError)")
        // The tightest limit is named: physical memory here, a cgroup's memory.max in a container.
        #expect(
            result.standardError.contains("physical memory, /proc/meminfo MemTotal")
                || result.standardError.contains("(cgroup /sys/fs/cgroup"),
            "\(result.standardError)")
    }

    @Test("a run over `ulimit -v` is refused before generation 0, naming the limit")
    func addressSpaceLimit() throws {
        // 16 × 17,088,522 parameters × 4 B × 3 ≈ 3.3 GB, over a 2.5 GB address space.
        let result = try Self.run(
            config: "network: mlp:64-4096-4096-10\nislands: {count: 1, population: 16}\nstop: {generations: 1}\n",
            shell: "ulimit -v 2500000")
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("the run needs about 3.3 GB"), "\(result.standardError)")
        #expect(result.standardError.contains("ulimit -v 2500000"), "\(result.standardError)")
        #expect(!result.standardError.contains("Fatal error"))
    }

    @Test("--local-ranks above the island count is refused before any thread starts")
    func tooManyLocalRanks() throws {
        let result = try Self.run(
            config: "islands: {count: 4, population: 4}\nstop: {generations: 2}\n", extra: ["--local-ranks", "5000"])
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains("--local-ranks 5000 for 4 islands"), "\(result.standardError)")
    }

    @Test("optimize --dim at the integer limit is a usage error, not a trap", arguments: ["cmaes", "ga"])
    func optimizeHugeDimension(algorithm: String) throws {
        let result = try AtollProcess.run([
            "optimize", "--function", "sphere", "--algorithm", algorithm, "--dim", "9223372036854775807",
        ])
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains("--dim 9223372036854775807"), "\(result.standardError)")
    }

    @Test("report reads a metrics.jsonl line with island -1 without trapping")
    func negativeIsland() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("tiny.yaml")
        let run = folder.appendingPathComponent("run")
        try "network: mlp:64-4-10\nislands: {count: 2, population: 4}\nstop: {generations: 2}\n".write(
            to: config, atomically: true, encoding: .utf8)
        let started = try AtollProcess.run(["run", config.path, "--out", run.path])
        #expect(started.status == 0, "\(started.standardError)")
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let text = try String(contentsOf: metrics, encoding: .utf8)
        try text.replacingOccurrences(of: "\"island\":1,", with: "\"island\":-1,").write(
            to: metrics, atomically: true, encoding: .utf8)
        #expect(try String(contentsOf: metrics, encoding: .utf8).contains("\"island\":-1,"))
        let result = try AtollProcess.run(["report", run.path])
        #expect(result.status == 0, "\(result.standardError)")
    }

    @Test(
        "a bad value names the key and what is valid",
        arguments: [
            ("allreduce: bogus\n", "allreduce: 'bogus' is not one of: reproducible, fast"),
            (
                "evolution: {algorithm: bogus}\n",
                "evolution.algorithm: 'bogus' is not one of: ga, snes, cmaes, sep_cmaes, eggroll"
            ),
            (
                "topology: {kind: bogus}\n",
                "topology.kind: 'bogus' is not one of: ring, fully_connected, torus, unconnected, edges"
            ),
            ("seed: -1\n", "seed: must be a whole number ≥ 0"),
            (
                "stop: {generations: 9223372036854775808}\n",
                "stop.generations: expected a whole number (from −9223372036854775808 to 9223372036854775807)"
            ),
            (
                "network: mlp:64-4-10\nislands: {population: 4}\nevolution: {tournament_size: 10}\n",
                "evolution.tournament_size: expected at most islands.population (4), got 10"
            ),
            (
                "network: mlp:64-32-10\nevolution: {algorithm: eggroll, rank: 100}\n",
                "evolution.rank: expected at most 32"
            ),
        ])
    func badValues(config: String, message: String) throws {
        let result = try Self.run(config: config)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
    }

    @Test("--out \"\" is a usage error, not a run in the current directory")
    func emptyOut() throws {
        let result = try Self.run(config: "stop: {generations: 1}\n", extra: ["--out", ""])
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains("--out must name a folder"), "\(result.standardError)")
    }

    @Test("resume of a folder with checkpoints but no config.yaml says how to recover")
    func missingConfig() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = folder.appendingPathComponent("run")
        try FileManager.default.createDirectory(
            at: run.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        let result = try AtollProcess.run(["resume", run.path])
        #expect(result.status == 1)
        #expect(
            result.standardError.contains(
                "has checkpoints/ but no config.yaml: copy the config the run was started with"),
            "\(result.standardError)")
    }
}
