import Foundation
import Testing

@testable import IslandModel
@testable import Reports

/// The held-out curve, the best-kind section and the loss on a log axis.
@Suite("RunReport sections", .serialized)
struct ReportSectionsTests {
    typealias S = ReportTestSupport

    static let minibatch = """
        seed: 3
        task: {name: digits, options: {batch: 64, eval_every: 2}}
        network: mlp:64-6-10
        islands: {count: 2, population: 8}
        evolution: {algorithm: snes, sigma0: 0.1}
        stop: {generations: 7}
        """

    static let anchored = """
        seed: 3
        network: mlp:64-6-10
        islands: {count: 2, population: 8}
        evolution: {algorithm: snes, sigma0: 0.1}
        latent: {enabled: true, mode: anchored, anchored: {dimension: 2, rebuild_every: 2, full_share: 0.25, latent_share: 0.25}}
        stop: {generations: 8}
        """

    /// The y pixel of each point of a polyline.
    static func ys(_ line: S.Element) -> [Double] {
        line.attributes["points"]!.split(separator: " ").map { Double($0.split(separator: ",")[1])! }
    }

    @Test(
        "a minibatch run: test and train accuracy and loss at every full evaluation, as curves over evaluations and a table"
    )
    func heldOutCurve() throws {
        let directory = try S.run(Self.minibatch)
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try RunLogs(directory: directory)
        // Generations 2, 4, 6 and the last, 7; the island lines are read beside them, none skipped.
        #expect(folder.fullEvaluations.map(\.generation) == [2, 4, 6, 7])
        #expect(folder.metrics.count == 2 * 8)
        #expect(folder.skippedLines == 0)
        let html = RunReport(folder: folder, generator: "test").html()
        let elements = try S.elements(html)
        let accuracy = S.polylines(elements, chart: "Accuracy of the best network at each full evaluation")
        #expect(accuracy.map { $0.attributes["data-series"]! } == ["test accuracy", "train accuracy"])
        #expect(accuracy.allSatisfy { S.pointCount($0) == 4 })
        let loss = S.polylines(elements, chart: "Loss of the best network at each full evaluation")
        #expect(loss.map { $0.attributes["data-series"]! } == ["test loss", "train loss"])
        // Higher accuracy is drawn higher (smaller y), point by point, in the order of the records.
        let test = folder.fullEvaluations.map { $0.testAccuracy! }
        let drawn = Self.ys(accuracy[0])
        for i in test.indices { for j in test.indices where test[i] > test[j] { #expect(drawn[i] < drawn[j]) } }
        // The table lists every full evaluation with its test accuracy; the last equals the summary's.
        let last = try #require(folder.fullEvaluations.last)
        #expect(last.testAccuracy == folder.summary?.testAccuracy)
        for record in folder.fullEvaluations { #expect(html.contains(HTML.number(record.testAccuracy!, digits: 4))) }
        #expect(!html.contains("for the final network only"))
    }

    @Test("a control task with eval_every: the best network's fitness at each full evaluation, no split curves")
    func controlTask() throws {
        let directory = try S.run(
            """
            seed: 1
            task: {name: Pendulum-v1, options: {episodes: 1, eval_every: 2}}
            network: mlp:3-8-1:tanh
            islands: {count: 1, population: 8}
            evolution: {algorithm: cmaes, sigma0: 0.3}
            stop: {generations: 6}
            """, ranks: 1)
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try RunLogs(directory: directory)
        // Every 2 generations before the last (the run logs the last one only for a task with splits).
        #expect(folder.fullEvaluations.map(\.generation) == [2, 4])
        let html = RunReport(folder: folder, generator: "test").html()
        let elements = try S.elements(html)
        #expect(
            S.polylines(elements, chart: "Fitness of the best network at each full evaluation").first.map(S.pointCount)
                == 2)
        #expect(S.polylines(elements, chart: "Accuracy of the best network at each full evaluation").isEmpty)
        #expect(html.contains("that generation's conditions"))
    }

    @Test(
        "a run without full evaluations says the final figure is the only one; a run cut mid-line still counts its full evaluations"
    )
    func noCurveAndCutRun() throws {
        let directory = try S.run(S.tiny)
        defer { try? FileManager.default.removeItem(at: directory) }
        let html = try RunReport(folder: RunLogs(directory: directory), generator: "test").html()
        #expect(html.contains("for the final network only"))
        #expect(!html.contains("at each full evaluation"))

        let minibatch = try S.run(Self.minibatch)
        defer { try? FileManager.default.removeItem(at: minibatch) }
        let url = minibatch.appendingPathComponent("metrics.jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        // Keep up to generation 5's lines (the full evaluations of 2 and 4 among them), then half a line.
        let lines = text.split(separator: "\n")
        let cut = lines.firstIndex { $0.contains("\"generation\":5") }!
        try Data((lines[..<(cut + 2)].joined(separator: "\n") + "\n" + lines[cut + 2].prefix(25)).utf8).write(to: url)
        try FileManager.default.removeItem(at: minibatch.appendingPathComponent("summary.json"))
        let folder = try RunLogs(directory: minibatch)
        #expect(folder.fullEvaluations.map(\.generation) == [2, 4])
        #expect(folder.skippedLines == 1, "only the cut line is left out, not the full-evaluation lines")
        let page = RunReport(folder: folder, generator: "test").html()
        #expect(page.contains("1 incomplete or unreadable log line(s)"))
        #expect(
            S.polylines(try S.elements(page), chart: "Accuracy of the best network at each full evaluation").first.map(
                S.pointCount) == 2)
    }

    @Test(
        "an anchored run: generations won per kind, per island and over all, and a strip cell per island and generation"
    )
    func bestKind() throws {
        let directory = try S.run(Self.anchored)
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try RunLogs(directory: directory)
        let kinded = folder.metrics.filter { $0.bestKind != nil }
        #expect(!kinded.isEmpty)
        let elements = try S.elements(RunReport(folder: folder, generator: "test").html())
        let cells = elements.filter { $0.attributes["class"] == "kind-cell" }
        #expect(cells.count == kinded.count)
        for line in kinded {
            let cell = cells.first {
                $0.attributes["data-island"] == "\(line.island)"
                    && $0.attributes["data-from-generation"] == "\(line.generation)"
            }
            #expect(cell?.attributes["data-kind"] == line.bestKind)
        }
        // The bars' segments: one per kind that won on the island, its tooltip counting the generations.
        let segments = elements.filter {
            $0.attributes["class"] == "segment" && $0.chart == "Generations each kind was the island's best"
        }
        let kinds = Set(kinded.map { $0.bestKind! })
        #expect(Set(segments.map { $0.attributes["data-part"]! }) == kinds)
        // One segment per kind an island won with, and the "all" bar's one per kind.
        #expect(segments.count == Set(kinded.map { "\($0.island) \($0.bestKind!)" }).count + kinds.count)

        // A weight-space run has no such section.
        let plain = try S.run(S.tiny)
        defer { try? FileManager.default.removeItem(at: plain) }
        let page = try RunReport(folder: RunLogs(directory: plain), generator: "test").html()
        #expect(!page.contains("kind-cell") && !page.contains("Which kind of candidate"))
    }

    @Test(
        "many generations: the strip bins them into at most columnLimit cells, each the kind best in most of its generations"
    )
    func stripBins() throws {
        let lines =
            (0..<1000).map { g in (generation: g, island: 0, kind: g % 4 == 0 ? "full" : "latent") }
            + (0..<1000).map { g in (generation: g, island: 1, kind: g < 500 ? "full" : "guided") }
        var strip = KindStrip(
            title: "t", lines: lines, kinds: ["full", "latent", "guided"],
            colours: ["full": "#111", "latent": "#222", "guided": "#333"])
        strip.columnLimit = 100
        let cells = try S.elements(strip.html()).filter { $0.attributes["class"] == "kind-cell" }
        #expect(cells.count == 200)
        #expect(
            cells.filter { $0.attributes["data-island"] == "0" }.allSatisfy { $0.attributes["data-kind"] == "latent" })
        let island1 = cells.filter { $0.attributes["data-island"] == "1" }
        #expect(island1.filter { $0.attributes["data-kind"] == "full" }.count == 50)
        #expect(island1.last?.attributes["data-to-generation"] == "999")
    }

    @Test(
        "a loss spanning decades gets a log-scale chart of −fitness, where equal ratios are equal distances; a loss within a decade does not"
    )
    func logScaleLoss() throws {
        let directory = try S.run(S.tiny)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = try RunReport(folder: RunLogs(directory: directory), generator: "test").html()
        #expect(!plain.contains("(log scale)"), "tiny's cross-entropy stays within a decade")

        // The same folder with a loss falling from 1 to 0.001, a decade every 2 generations.
        var lines = ""
        for g in 0...6 {
            let loss = pow(10, -Double(g) / 2)
            lines +=
                "{\"best\":\(-loss),\"best_ever\":\(-loss),\"bytes_migrated\":0,\"evaluations\":\(8 * (g + 1)),\"generation\":\(g),\"island\":0,\"mean\":\(-2 * loss),\"median\":\(-2 * loss),\"non_finite\":0,\"phase\":\"weights\"}\n"
        }
        try Data(lines.utf8).write(to: directory.appendingPathComponent("metrics.jsonl"))
        let elements = try S.elements(RunReport(folder: RunLogs(directory: directory), generator: "test").html())
        let line = try #require(S.polylines(elements, chart: "Best cross_entropy of each generation (log scale)").first)
        let ys = Self.ys(line)
        #expect(ys.count == 7)
        let steps = zip(ys.dropFirst(), ys).map { $0 - $1 }
        // Lower loss is drawn lower (larger y), by the same distance for each half decade.
        #expect(steps.allSatisfy { $0 > 0 && abs($0 - steps[0]) <= 0.11 }, "\(steps)")
    }
}
