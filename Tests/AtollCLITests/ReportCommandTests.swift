import Foundation
import Testing

/// `atoll report` and `atoll compare` as a user meets them, with real runs of configs/tiny.yaml.
@Suite("atoll report and compare", .serialized)
struct ReportCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let tiny = root.appendingPathComponent("configs/tiny.yaml").path

    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "atoll-report-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    static func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    @Test("a killed run still gets a report; resume writes the finished one with the environment")
    func killedThenResumed() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = folder.appendingPathComponent("run")
        // The process kills itself (SIGKILL) right after the checkpoint of generation 4.
        let killed = try AtollProcess.run([
            "run", Self.tiny, "--out", run.path, "--local-ranks", "2", "--fault-kill-after-checkpoint", "4",
        ])
        #expect(killed.status != 0)
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("report.html").path))

        let partial = folder.appendingPathComponent("partial.html")
        let report = try AtollProcess.run(["report", run.path, "--out", partial.path])
        #expect(report.status == 0, "\(report.standardError)")
        #expect(report.standardOutput.contains("Report: \(partial.path)"))
        let partialText = try Self.text(partial)
        #expect(partialText.contains("Not finished"))
        #expect(partialText.contains("not recorded yet: environment.json is written when the run ends"))

        let resumed = try AtollProcess.run(["resume", run.path, "--local-ranks", "2"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardOutput.contains("Report: \(run.appendingPathComponent("report.html").path)"))
        let finished = try Self.text(run.appendingPathComponent("report.html"))
        #expect(finished.contains("Finished after"))
        #expect(
            finished.contains("none (ranks were threads of one process)"), "the environment of the resumed run is shown"
        )
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("environment.json").path))
    }

    @Test("compare overlays two runs into --out; fewer than two folders, or a folder that is no run, is an error")
    func compare() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = folder.appendingPathComponent("a")
        let b = folder.appendingPathComponent("b")
        for run in [a, b] { #expect(try AtollProcess.run(["run", Self.tiny, "--out", run.path]).status == 0) }
        let out = folder.appendingPathComponent("compare.html")
        let result = try AtollProcess.run(["compare", a.path, b.path, "--out", out.path])
        #expect(result.status == 0, "\(result.standardError)")
        let page = try Self.text(out)
        #expect(page.contains("data-series=\"a\"") && page.contains("data-series=\"b\""))

        let one = try AtollProcess.run(["compare", a.path])
        #expect(one.status != 0 && one.standardError.contains("at least two run folders"))
        let notRun = try AtollProcess.run(["report", folder.path])
        #expect(notRun.status == 1 && notRun.standardError.contains("no readable config.yaml"))
        let missing = try AtollProcess.run(["compare", a.path, "/nonexistent/run"])
        #expect(missing.status == 1 && missing.standardError.contains("/nonexistent/run is not a folder"))
    }
}
