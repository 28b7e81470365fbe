import Foundation
import Testing

/// The command line as a user meets it: help, version, `info`, and usage errors.
@Suite("atoll command line")
struct CLITests {
    @Test("--help lists the subcommands and exits 0")
    func help() throws {
        let result = try AtollProcess.run(["--help"])
        #expect(result.status == 0)
        for name in [
            "run", "resume", "report", "compare", "info", "evaluate", "tasks", "optimize", "export", "import", "zoo",
            "pretrain", "bench",
        ] {
            #expect(result.standardOutput.contains("  \(name)"), "help should list \(name)")
        }
        #expect(!result.standardOutput.contains("selftest"), "selftest is hidden")
    }

    @Test(
        "every subcommand has --help",
        arguments: [
            ["run"], ["resume"], ["report"], ["compare"], ["info"], ["evaluate"], ["tasks"], ["optimize"], ["export"],
            ["import"], ["zoo"], ["pretrain"],
            ["bench"], ["bench", "collectives"], ["bench", "evaluate"], ["bench", "operators"], ["bench", "meta"],
        ])
    func subcommandHelp(path: [String]) throws {
        let result = try AtollProcess.run(path + ["--help"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("USAGE: atoll \(path.joined(separator: " "))"))
    }

    @Test("--version prints the version")
    func version() throws {
        let result = try AtollProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(
            result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).range(
                of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil)
    }

    @Test("run with a config that does not exist or has an unknown key exits 1 naming the problem")
    func runBadConfig() throws {
        let missing = try AtollProcess.run(["run", "/nonexistent/config.yaml"])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("/nonexistent/config.yaml"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("bad.yaml")
        try "islands: {count: 2}\nevolution: {mutation_sigmaa: 1}\n".write(to: bad, atomically: true, encoding: .utf8)
        let result = try AtollProcess.run(["run", bad.path, "--out", folder.appendingPathComponent("out").path])
        #expect(result.status == 1)
        #expect(result.standardError.contains("unknown key 'evolution.mutation_sigmaa'"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test("info reports version, MPI, rank, OpenBLAS and cores")
    func info() throws {
        let result = try AtollProcess.run(["info"])
        #expect(result.status == 0, "\(result.standardError)")
        let text = result.standardOutput
        #expect(text.contains("rank 0 of 1 on "))
        #expect(text.contains("Open MPI v"))
        #expect(text.range(of: #"OpenBLAS: core \S+, \d+ thread\(s\)"#, options: .regularExpression) != nil)
        #expect(text.range(of: #"cores:\s+\d+ active"#, options: .regularExpression) != nil)
    }

    @Test(
        "a mistyped subcommand or option is a usage error with a non-zero exit",
        arguments: [
            ["infoo"], ["info", "--bogus"], ["bench", "collectives", "--repeats", "zero"],
            ["bench", "collectives", "--sizes", "12,-3"],
            ["run"], ["run", "configs/tiny.yaml", "--local-ranks", "0"],
        ])
    func usageError(arguments: [String]) throws {
        let result = try AtollProcess.run(arguments)
        #expect(result.status == 64, "ArgumentParser's usage exit code (EX_USAGE)")
        #expect(result.standardError.contains("Error:"))
        #expect(result.standardError.contains("Usage:") || result.standardError.contains("Help:"))
    }
}

/// `atoll evaluate` on weights that hold NaN or ±inf.
@Suite("atoll evaluate")
struct EvaluateCommandTests {
    /// A safetensors file with one flat F32 tensor `weights` of `values`.
    func flatSafetensors(_ values: [Float], at url: URL) throws {
        let header =
            "{\"weights\":{\"dtype\":\"F32\",\"shape\":[\(values.count)],\"data_offsets\":[0,\(4 * values.count)]}}"
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header.utf8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: url)
    }

    @Test("NaN or inf weights are an error with their count and the first one's tensor, not a finite fitness")
    func nonFiniteWeights() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "atoll-evaluate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // mlp:4-3-2 on CartPole: 0.weight [3, 4], 0.bias [3], 2.weight [2, 3], 2.bias [2] — 23 floats.
        var values = [Float](repeating: 0.1, count: 23)
        let good = folder.appendingPathComponent("good.safetensors")
        try flatSafetensors(values, at: good)
        let arguments = ["evaluate", "--task", "CartPole-v1", "--network", "mlp:4-3-2"]
        let fine = try AtollProcess.run(arguments + ["--weights", good.path])
        #expect(fine.status == 0, "\(fine.standardError)")

        values[13] = .nan
        values[20] = .infinity
        let bad = folder.appendingPathComponent("bad.safetensors")
        try flatSafetensors(values, at: bad)
        let result = try AtollProcess.run(arguments + ["--weights", bad.path])
        #expect(result.status == 1)
        #expect(
            result.standardError.contains("2 of 23 weights are NaN or ±inf (the first: 0.bias element 1 = nan)"),
            "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }
}

/// Two `atoll` processes and one run folder.
@Suite("atoll run folder lock")
struct RunLockCommandTests {
    @Test(
        "while one process runs in a folder, a second run --force or resume there exits 1 naming the holder's PID and host"
    )
    func secondProcessIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "atoll-lock-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("long.yaml")
        try
            "network: mlp:64-4-10\nislands: {count: 2, population: 4}\nstop: {generations: 100000000}\noutput: {checkpoint_every: 0}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run")
        let first = Process()
        first.executableURL = AtollProcess.executable
        first.arguments = ["run", config.path, "--out", out.path]
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        // SIGKILL: a process started from the test runner may inherit SIGTERM blocked.
        defer {
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
        }
        // The holder writes its PID into run.lock once it has the lock (after generation 0).
        let lock = out.appendingPathComponent("run.lock")
        let deadline = Date().addingTimeInterval(60)
        while (try? String(contentsOf: lock, encoding: .utf8))?.contains("pid") != true && Date() < deadline {
            usleep(50_000)
        }
        let holder = "pid \(first.processIdentifier) on host \(ProcessInfo.processInfo.hostName) (atoll run"
        for arguments in [["run", config.path, "--out", out.path, "--force"], ["resume", out.path]] {
            // Bounded: a second writer that is not refused would run as long as the first.
            let second = try AtollProcess.run(arguments, killAfter: 60)
            #expect(second.status == 1, "\(arguments)")
            #expect(
                second.standardError.contains("is in use by another Atoll run: \(holder)"),
                "\(arguments): \(second.standardError)")
        }
        #expect(first.isRunning, "the first run goes on")
    }
}
