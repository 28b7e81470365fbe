import Foundation
import IslandModel

/// `report.html` of one run: a self-contained page (inline SVG and CSS, no script, nothing
/// fetched) with the run's curves, meta-learner rounds, time shares, migrations, environment and
/// configuration. Made from the run folder alone, so it works for a finished run, one in progress
/// and one that was killed.
public struct RunReport {
    public let folder: RunLogs
    public let curves: RunCurves
    /// Who made the page (`atoll 0.1.0`), shown at its foot.
    public let generator: String

    public init(folder: RunLogs, generator: String) {
        self.folder = folder
        self.generator = generator
        curves = RunCurves(metrics: folder.metrics)
    }

    /// Reads `directory` and writes its report to `output` (default `directory/report.html`).
    ///
    /// - Returns: the file written.
    @discardableResult
    public static func write(directory: URL, to output: URL? = nil, generator: String) throws -> URL {
        let report = RunReport(folder: try RunLogs(directory: directory), generator: generator)
        let url = output ?? directory.appendingPathComponent("report.html")
        do {
            try Data(report.html().utf8).write(to: url, options: .atomic)
        } catch {
            throw ReportError("cannot write \(url.path): \(error.localizedDescription)")
        }
        return url
    }

    /// The page.
    public func html() -> String {
        let name = folder.directory.standardizedFileURL.lastPathComponent
        var body = "<h1>Atoll run: \(HTML.escape(name))</h1>\n"
        body += status()
        body += summarySection()
        body += fitnessSection()
        body += metaSection()
        body += timeSection()
        body += migrationSection()
        body += environmentSection()
        body += "<h2>Configuration (config.yaml as resolved)</h2>\n<pre>\(HTML.escape(folder.configText))</pre>\n"
        if let problem = folder.configProblem {
            body +=
                "<p class=\"note\">The configuration could not be parsed (\(HTML.escape(problem))): the parts of the report that need it are left out.</p>\n"
        }
        body +=
            "<p class=\"note\">Made by \(HTML.escape(generator)) from \(HTML.escape(folder.directory.path)) on \(HTML.escape(Self.timestamp())).</p>\n"
        return HTML.document(title: "Atoll run \(name)", body: body)
    }

    /// `mlp:64-32-10` as written, or an inline spec as compact JSON.
    static func describe(_ network: NetworkSource) -> String {
        switch network {
        case .text(let text): return text
        case .inline(let spec):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(spec)).map { String(decoding: $0, as: UTF8.self) } ?? "\(spec)"
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    /// Finished, or how far an unfinished run got.
    func status() -> String {
        let last = curves.generations.last ?? 0
        if let summary = folder.summary {
            return
                "<p class=\"status\">Finished after \(summary.generations) generations (stopped by \(HTML.escape(summary.stopReason))), \(summary.evaluations) evaluations in \(String(format: "%.1f", summary.wallSeconds)) s.</p>\n"
        }
        var text =
            "Not finished (still running, or stopped without a summary): \(curves.generations.count) generation(s) logged, the last \(last)"
        if let limit = folder.config?.stop.generations { text += " of \(limit)" }
        text += ". If it was stopped, continue it with <code>atoll resume \(HTML.escape(folder.directory.path))</code>."
        if folder.skippedLines > 0 {
            text += " \(folder.skippedLines) incomplete or unreadable log line(s) were left out."
        }
        return "<p class=\"status unfinished\">\(text)</p>\n"
    }

    func summarySection() -> String {
        var rows: [(String, String)] = []
        if let config = folder.config {
            rows.append(("task", config.task.name))
            rows.append(("network", Self.describe(config.network)))
            rows.append(
                (
                    "islands",
                    "\(config.islands.count) × \(config.islands.population) individuals, topology \(config.topology.kind.rawValue)"
                ))
        }
        if let s = folder.summary {
            rows += [
                ("generations", "\(s.generations) (stopped by \(s.stopReason))"),
                ("best fitness (\(s.fitnessName))", "\(HTML.number(Double(s.bestFitness))) (island \(s.bestIsland))"),
            ]
            if let accuracy = s.testAccuracy {
                rows.append(("test accuracy (best network, held-out split)", String(format: "%.4f", accuracy)))
            }
            rows += [
                ("evaluations", "\(s.evaluations)"),
                ("wall time", String(format: "%.1f s", s.wallSeconds)),
                ("evaluations per second", String(format: "%.0f", Double(s.evaluations) / max(s.wallSeconds, 1e-9))),
                (
                    "peak memory per rank",
                    s.peakMemoryMiB.enumerated().map { String(format: "rank %d: %.0f MiB", $0.offset, $0.element) }
                        .joined(separator: ", ")
                ),
            ]
        } else if let last = curves.generations.indices.last {
            rows.append(("generations logged", "\(curves.generations.count) (last: \(curves.generations[last]))"))
            rows.append(("best fitness so far", HTML.number(curves.bestSoFar[last])))
            rows.append(("evaluations so far", String(format: "%.0f", curves.totalEvaluations[last])))
        }
        if let phase = folder.metrics.last?.phase {
            // The design's name for the space (anchored, codes, …), where the config is readable.
            let space = folder.config.map { $0.searchSpace(in: SearchPhase(rawValue: phase) ?? .weights) } ?? phase
            rows.append(("search space at the last generation", space))
        }
        return "<h2>Summary</h2>\n" + HTML.keyValueTable(rows)
    }

    func fitnessSection() -> String {
        guard !curves.islands.isEmpty else {
            return "<h2>Fitness</h2>\n<p class=\"note\">metrics.jsonl holds no generation yet.</p>\n"
        }
        var out = "<h2>Fitness</h2>\n"
        if !curves.latentSpans.isEmpty {
            let spans = curves.latentSpans.map { $0.first == $0.last ? "\($0.first)" : "\($0.first)–\($0.last)" }
                .joined(separator: ", ")
            out += "<p class=\"note\">Shaded: generations in the latent phase (\(spans)).</p>\n"
        }
        for (title, keyPath) in [
            ("Best fitness of each generation", \RunCurves.IslandCurve.best),
            ("Mean fitness of each generation", \RunCurves.IslandCurve.mean),
        ] {
            var chart = LineChart(
                title: title, xLabel: "evaluations (networks scored on the island so far)",
                yLabel: "\(fitnessName) (higher is better)")
            chart.series = curves.islands.map {
                LineChart.Series(
                    name: "island \($0.island)", colour: LineChart.colour($0.island), points: $0[keyPath: keyPath])
            }
            chart.bands = curves.latentBands()
            out += chart.html()
        }
        out += lossChart(fitnessName: fitnessName)
        out += heldOutSection()
        out += bestKindSection()
        return out
    }
}
