import ArgumentParser
import Foundation
import Reports

/// `atoll report RUN_DIR`: the run's `report.html`.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained report.html of a run: curves, meta-learner rounds, time, migration, config.",
        discussion: """
            The page has inline SVG charts and no script; it opens offline in any browser. A run still \
            in progress, or killed, gives a report of what its logs hold so far. atoll run and atoll \
            resume write RUN_DIR/report.html at the end of every run.
            """
    )

    @Argument(help: "The run folder (holding config.yaml and metrics.jsonl).")
    var runDirectory: String

    @Option(help: "Where to write the page (default: RUN_DIR/report.html).")
    var out: String?

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let url = try RunReport.write(
            directory: URL(fileURLWithPath: runDirectory), to: out.map { URL(fileURLWithPath: $0) },
            generator: "atoll \(Atoll.version)")
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        print(String(format: "Report: %@ (%.0f kB, made in %.2f s)", url.path, Double(size) / 1000, seconds))
    }
}

/// `atoll compare RUN_DIR…`: several runs on one page.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Overlay the fitness curves of several runs and put their summaries side by side in one HTML page.",
        discussion: "For example a latent run and its weight-space twin: atoll compare runs/digits runs/digits-full."
    )

    @Argument(help: "Two or more run folders.")
    var runDirectories: [String]

    @Option(help: "Where to write the page.")
    var out: String = "compare.html"

    func validate() throws {
        guard runDirectories.count >= 2 else {
            throw ValidationError("compare needs at least two run folders, got \(runDirectories.count)")
        }
    }

    func run() throws {
        let comparison = try RunComparison(
            directories: runDirectories.map { URL(fileURLWithPath: $0) }, generator: "atoll \(Atoll.version)")
        let url = URL(fileURLWithPath: out)
        try comparison.write(to: url)
        print("Comparison of \(runDirectories.count) runs: \(url.path)")
    }
}
