import Foundation
import Testing

@testable import IslandModel
@testable import Reports

@Suite("RunReport", .serialized)
struct RunReportTests {
    typealias S = ReportTestSupport

    @Test(
        "a latent run: well-formed page, one line per island with a point per generation logged, the phase band where the phase changed"
    )
    func latentRun() throws {
        let directory = try S.run(S.tinyLatent)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try RunReport.write(directory: directory, generator: "test")
        #expect(url.lastPathComponent == "report.html")
        let html = try String(contentsOf: url, encoding: .utf8)
        let elements = try S.elements(html)
        #expect(
            !elements.contains {
                $0.name == "script" || ($0.attributes["src"] ?? "").hasPrefix("http")
                    || ($0.attributes["href"] ?? "").hasPrefix("http")
            })

        let metrics = try RunLogs(directory: directory).metrics
        let islands = Set(metrics.map(\.island)).sorted()
        let generations = Set(metrics.map(\.generation)).count
        #expect(islands == [0, 1, 2, 3] && generations == 7)
        for chart in ["Best fitness of each generation", "Mean fitness of each generation"] {
            let lines = S.polylines(elements, chart: chart)
            #expect(lines.map { $0.attributes["data-series"]! } == islands.map { "island \($0)" })
            for line in lines {
                #expect(S.pointCount(line) == generations)
                #expect(line.attributes["data-points"] == "\(generations)")
            }
            let latent = metrics.filter { $0.phase == "latent" }.map(\.generation)
            let bands = elements.filter { $0.name == "rect" && $0.attributes["class"] == "band" && $0.chart == chart }
            #expect(!latent.isEmpty, "the tiny latent run enters the latent phase")
            // The phase band covers exactly the generations logged as latent.
            let covered = bands.flatMap {
                Int($0.attributes["data-from-generation"]!)!...Int($0.attributes["data-to-generation"]!)!
            }
            #expect(covered == Array(Set(latent)).sorted())
        }
        // The meta-learner rounds: a retention line with one point per round, and the threshold.
        let rounds = try RunLogs(directory: directory).meta.count
        #expect(rounds == 3)
        #expect(S.polylines(elements, chart: "Retention after each round").first.map(S.pointCount) == rounds)
        #expect(html.contains("threshold 0.3"))
        // Time shares for both ranks, and the migration table for the ring's 8 edges.
        let segments = elements.filter { $0.attributes["class"] == "segment" }
        #expect(Set(segments.map { $0.attributes["data-part"]! }).contains("evolve (breed, decode, evaluate)"))
        #expect(elements.filter { $0.name == "line" && $0.attributes["class"] == "edge" }.count == 8)
        #expect(html.contains("Finished after 6 generations"))
    }

    @Test(
        "a weight-space run has no phase band; a run cut off mid-line without a summary still gives a report of what is there"
    )
    func unfinishedRun() throws {
        let directory = try S.run(S.tiny)
        defer { try? FileManager.default.removeItem(at: directory) }
        let full = try S.elements(RunReport(folder: RunLogs(directory: directory), generator: "test").html())
        #expect(!full.contains { $0.name == "rect" && $0.attributes["class"] == "band" })

        // As if the run were killed while writing generation 4's metrics.
        let metricsURL = directory.appendingPathComponent("metrics.jsonl")
        let lines = try String(contentsOf: metricsURL, encoding: .utf8).split(separator: "\n")
        let kept = lines.prefix(4 * 4 + 2).joined(separator: "\n") + "\n" + lines[4 * 4 + 2].prefix(30)
        try Data(kept.utf8).write(to: metricsURL)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("summary.json"))
        try FileManager.default.removeItem(
            at: directory.appendingPathComponent("environment.json"), ignoringMissing: true)

        let folder = try RunLogs(directory: directory)
        #expect(folder.skippedLines == 1)
        let html = RunReport(folder: folder, generator: "test").html()
        let elements = try S.elements(html)
        let best = S.polylines(elements, chart: "Best fitness of each generation")
        // Islands 0 and 1 have generations 0–4 logged, islands 2 and 3 generations 0–3.
        #expect(best.map(S.pointCount) == [5, 5, 4, 4])
        #expect(html.contains("Not finished"))
        #expect(html.contains("the last 4 of 6"))
    }

    @Test(
        "an anchored-latent run without decoder or focus says the meta-learner was not used, not that no round is logged yet"
    )
    func anchoredWithoutMetaLearner() throws {
        let directory = try S.run(
            """
            seed: 2
            network: mlp:64-4-10
            islands: {count: 2, population: 8}
            evolution: {algorithm: snes, sigma0: 0.1}
            latent: {enabled: true, mode: anchored, anchored: {dimension: 2}}
            stop: {generations: 3}
            """, ranks: 1)
        defer { try? FileManager.default.removeItem(at: directory) }
        let html = RunReport(folder: try RunLogs(directory: directory), generator: "test").html()
        #expect(html.contains("Not used: this design (latent.mode anchored"))
        #expect(!html.contains("No training round logged yet"))
        #expect(html.contains("<th>search space at the last generation</th><td>anchored</td>"))
        let meta = directory.appendingPathComponent("meta.jsonl")
        let rounds =
            FileManager.default.fileExists(atPath: meta.path) ? try String(contentsOf: meta, encoding: .utf8) : ""
        #expect(rounds.isEmpty, "no meta-learner round was logged")
    }

    @Test(
        "a finished run whose meta-learner never trained (warm-up past the end) says it was not used; the summary names the space"
    )
    func metaLearnerNeverTrained() throws {
        let yaml = S.tinyLatent.replacingOccurrences(of: "warmup_generations: 2", with: "warmup_generations: 50")
        let directory = try S.run(yaml, ranks: 1)
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try RunLogs(directory: directory)
        #expect(folder.meta.isEmpty)
        let html = RunReport(folder: folder, generator: "test").html()
        #expect(
            html.contains("Not used: the run ended after generation 6, before the meta-learner's first training round"))
        #expect(!html.contains("No training round logged yet"))
        #expect(html.contains("<th>search space at the last generation</th><td>weights</td>"))

        // The same folder before its end (no summary yet): no round logged yet, not "not used".
        try FileManager.default.removeItem(at: directory.appendingPathComponent("summary.json"))
        let unfinished = RunReport(folder: try RunLogs(directory: directory), generator: "test").html()
        #expect(unfinished.contains("No training round logged yet"))
    }

    @Test("a folder without config.yaml is refused, naming it")
    func notARunFolder() throws {
        let directory = S.folder()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: ReportError.self) { try RunLogs(directory: directory) }
        do {
            _ = try RunLogs(directory: directory)
        } catch {
            #expect("\(error)".contains("no readable config.yaml"))
        }
    }

    @Test("the migration schedule matches the bytes each island received, with probabilistic edges")
    func migrationSchedule() throws {
        let yaml =
            S.tiny + """

                topology:
                  kind: edges
                  edges: [{source: 0, destination: 1, probability: 0.5}, {source: 1, destination: 2}, {source: 2, destination: 0, probability: 0.3},
                          {source: 3, destination: 0, probability: 0.7}, {source: 0, destination: 3, probability: 0.5}]
                """
        let directory = try S.run(yaml)
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try RunLogs(directory: directory)
        let schedule = try MigrationSchedule(config: folder.config!)
        let moves = schedule.moves(throughGeneration: 6)
        let dimension = 64 * 6 + 6 + 6 * 10 + 10  // mlp:64-6-10
        let message = Migration.messageSize(count: 1, dimension: dimension)
        let last = folder.metrics.filter { $0.generation == 6 }
        for island in 0..<4 {
            let events = moves.filter { $0.edge.destination == island }.reduce(0) { $0 + $1.events }
            #expect(last.first { $0.island == island }!.bytesMigrated == events * message, "island \(island)")
        }
        #expect(
            moves.contains { $0.events > 0 && $0.events < 3 },
            "some probabilistic edge fired at some but not all of the 3 migrations")
    }

    @Test("compare: one line per run in each chart, and a column per run in the summary")
    func compare() throws {
        let a = try S.run(S.tiny)
        let b = try S.run(S.tinyLatent)
        defer { for d in [a, b] { try? FileManager.default.removeItem(at: d) } }
        let html = try RunComparison(directories: [a, b], generator: "test").html()
        let elements = try S.elements(html)
        let lines = S.polylines(elements, chart: "Best fitness so far (any island)")
        #expect(lines.map { $0.attributes["data-series"]! } == [a.lastPathComponent, b.lastPathComponent])
        #expect(lines.map(S.pointCount) == [7, 7])
        let bands = elements.filter {
            $0.name == "rect" && $0.attributes["class"] == "band" && $0.chart == "Best fitness so far (any island)"
        }
        #expect(!bands.isEmpty && bands.allSatisfy { $0.attributes["data-run"] == b.lastPathComponent })
        #expect(elements.filter { $0.name == "th" }.count >= 3)
    }
}

extension FileManager {
    func removeItem(at url: URL, ignoringMissing: Bool) throws {
        if ignoringMissing && !fileExists(atPath: url.path) { return }
        try removeItem(at: url)
    }
}
