import Foundation
import IslandModel

/// `atoll compare`: several runs on one page — the best fitness so far and the mean fitness over
/// islands against all evaluations, one line per run with its latent phase shaded in its colour,
/// and the runs' summaries side by side.
public struct RunComparison {
    public let runs: [(name: String, folder: RunLogs, curves: RunCurves)]
    public let generator: String

    /// - Throws: `ReportError` when a folder is not a run folder.
    public init(directories: [URL], generator: String) throws {
        var runs: [(String, RunLogs, RunCurves)] = []
        for directory in directories {
            let folder = try RunLogs(directory: directory)
            runs.append((Self.name(directory, among: directories), folder, RunCurves(metrics: folder.metrics)))
        }
        self.runs = runs
        self.generator = generator
    }

    /// The folder's name, or its path when two runs share a name.
    static func name(_ directory: URL, among all: [URL]) -> String {
        let base = directory.standardizedFileURL.lastPathComponent
        return all.filter { $0.standardizedFileURL.lastPathComponent == base }.count > 1 ? directory.path : base
    }

    public func html() -> String {
        var body = "<h1>Atoll: \(runs.count) runs compared</h1>\n"
        body += "<p class=\"status\">\(HTML.escape(runs.map(\.name).joined(separator: ", ")))</p>\n"
        body += "<h2>Fitness</h2>\n"
        let charts: [(String, String, KeyPath<RunCurves, [Double]>)] = [
            ("Best fitness so far (any island)", "best fitness", \.bestSoFar),
            ("Mean fitness (mean over islands of the population mean)", "mean fitness", \.meanOfMeans),
        ]
        for (title, quantity, keyPath) in charts {
            var chart = LineChart(
                title: title, xLabel: "evaluations (networks scored on all islands)",
                yLabel: "\(quantity) (higher is better)")
            for (k, run) in runs.enumerated() {
                let values = run.curves[keyPath: keyPath]
                chart.series.append(
                    LineChart.Series(
                        name: run.name, colour: LineChart.colour(k),
                        points: zip(run.curves.totalEvaluations, values).map { ChartPoint(x: $0, y: $1) }))
                chart.bands += run.curves.latentSpans.map {
                    LineChart.Band(
                        from: $0.fromTotalEvaluations, to: $0.toTotalEvaluations, colour: LineChart.colour(k),
                        label: "\(run.name): latent phase",
                        attributes: [
                            ("run", run.name), ("from-generation", "\($0.first)"), ("to-generation", "\($0.last)"),
                        ], opacity: 0.15)
                }
            }
            body += chart.html()
        }
        body += "<h2>Summaries</h2>\n" + summaryTable()
        body +=
            "<p class=\"note\">Made by \(HTML.escape(generator)) on \(HTML.escape(RunReport.timestamp())). Each run's own report: <code>atoll report RUN_DIR</code>.</p>\n"
        return HTML.document(title: "Atoll: \(runs.count) runs compared", body: body)
    }

    func summaryTable() -> String {
        let rows: [(String, (RunLogs, RunCurves) -> String)] = [
            ("folder", { f, _ in f.directory.path }),
            ("task", { f, _ in f.config?.task.name ?? "?" }),
            ("network", { f, _ in f.config.map { RunReport.describe($0.network) } ?? "?" }),
            (
                "islands × population",
                { f, _ in f.config.map { "\($0.islands.count) × \($0.islands.population)" } ?? "?" }
            ),
            ("latent space", { f, _ in f.config.map { $0.latent.enabled ? "enabled" : "off" } ?? "?" }),
            (
                "status",
                { f, c in
                    f.summary.map { "finished (\($0.stopReason))" }
                        ?? "not finished (\(c.generations.count) generations logged)"
                }
            ),
            ("generations", { f, c in f.summary.map { "\($0.generations)" } ?? "\(c.generations.last ?? 0)" }),
            (
                "best fitness",
                { f, c in
                    f.summary.map { HTML.number(Double($0.bestFitness)) } ?? c.bestSoFar.last.map { HTML.number($0) }
                        ?? "–"
                }
            ),
            ("fitness", { f, _ in f.summary?.fitnessName ?? "–" }),
            ("test accuracy", { f, _ in f.summary?.testAccuracy.map { String(format: "%.4f", $0) } ?? "–" }),
            (
                "evaluations",
                { f, c in
                    f.summary.map { "\($0.evaluations)" } ?? c.totalEvaluations.last.map { String(format: "%.0f", $0) }
                        ?? "–"
                }
            ),
            ("wall time", { f, _ in f.summary.map { String(format: "%.1f s", $0.wallSeconds) } ?? "–" }),
            (
                "evaluations per second",
                { f, _ in
                    f.summary.map { String(format: "%.0f", Double($0.evaluations) / max($0.wallSeconds, 1e-9)) } ?? "–"
                }
            ),
            ("latent generations", { _, c in "\(c.latentSpans.reduce(0) { $0 + $1.last - $1.first + 1 })" }),
            ("ranks", { f, _ in f.environment.map { "\($0.ranks.count)" } ?? "\(Set(f.timings.map(\.rank)).count)" }),
        ]
        return HTML.table(
            header: [""] + runs.map(\.name),
            rows: rows.map { row in [row.0] + runs.map { row.1($0.folder, $0.curves) } })
    }

    /// Writes the page to `output`.
    public func write(to output: URL) throws {
        do {
            try Data(html().utf8).write(to: output, options: .atomic)
        } catch {
            throw ReportError("cannot write \(output.path): \(error.localizedDescription)")
        }
    }
}
