import Foundation
import Testing

/// The command line as a user meets it: help, version, `info`, and usage errors.
@Suite("atoll command line")
struct CLITests {
    @Test("--help lists the subcommands and exits 0")
    func help() throws {
        let result = try AtollProcess.run(["--help"])
        #expect(result.status == 0)
        for name in ["run", "resume", "report", "compare", "info", "evaluate", "tasks", "optimize", "export", "import", "zoo", "pretrain", "bench"] {
            #expect(result.standardOutput.contains("  \(name)"), "help should list \(name)")
        }
        #expect(!result.standardOutput.contains("selftest"), "selftest is hidden")
    }

    @Test("every subcommand has --help", arguments: [
        ["run"], ["resume"], ["report"], ["compare"], ["info"], ["evaluate"], ["tasks"], ["optimize"], ["export"], ["import"], ["zoo"], ["pretrain"],
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
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil)
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

    @Test("a mistyped subcommand or option is a usage error with a non-zero exit",
          arguments: [["infoo"], ["info", "--bogus"], ["bench", "collectives", "--repeats", "zero"], ["bench", "collectives", "--sizes", "12,-3"],
                      ["run"], ["run", "configs/tiny.yaml", "--local-ranks", "0"]])
    func usageError(arguments: [String]) throws {
        let result = try AtollProcess.run(arguments)
        #expect(result.status == 64, "ArgumentParser's usage exit code (EX_USAGE)")
        #expect(result.standardError.contains("Error:"))
        #expect(result.standardError.contains("Usage:") || result.standardError.contains("Help:"))
    }
}
