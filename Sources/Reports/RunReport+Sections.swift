import Foundation
import IslandModel

extension RunReport {
    /// Per meta-learner round: the raw loss terms (log scale), retention against the threshold,
    /// and a table with the phase decided after each round.
    func metaSection() -> String {
        let rounds = folder.meta
        guard !rounds.isEmpty else {
            guard let latent = folder.config?.latent, latent.enabled else { return "" }
            guard latent.trainsMetaLearner else {
                return
                    "<h2>Meta-learner</h2>\n<p class=\"note\">Not used: this design (latent.mode \(latent.mode.rawValue), no decoder or focus) searches without the meta-learner.</p>\n"
            }
            if let summary = folder.summary {
                return
                    "<h2>Meta-learner</h2>\n<p class=\"note\">Not used: the run ended after generation \(summary.generations), before the meta-learner's first training round (meta.jsonl is empty).</p>\n"
            }
            return "<h2>Meta-learner</h2>\n<p class=\"note\">No training round logged yet (meta.jsonl is empty).</p>\n"
        }
        var out = "<h2>Meta-learner rounds</h2>\n"
        var losses = LineChart(
            title: "Loss terms per round (mean over steps and islands)", xLabel: "generation",
            yLabel: "loss (log scale)")
        losses.logarithmicY = true
        let terms: [(String, (MetaRoundRecord) -> Double)] = [
            ("reconstruction", \.reconstruction), ("behaviour", \.behaviour), ("gap", \.gap), ("fitness head", \.head),
        ]
        for (k, term) in terms.enumerated() {
            let points = rounds.map { ChartPoint(x: Double($0.generation), y: term.1($0)) }
            if points.contains(where: { $0.y > 0 && $0.y.isFinite }) {
                losses.series.append(LineChart.Series(name: term.0, colour: LineChart.colour(k), points: points))
            }
        }
        if !losses.series.isEmpty { out += losses.html() }
        var retention = LineChart(
            title: "Retention after each round", xLabel: "generation", yLabel: "retention of decode(encode(g)) (ratio)")
        retention.series = [
            LineChart.Series(
                name: "retention", colour: LineChart.colour(0),
                points: rounds.map { ChartPoint(x: Double($0.generation), y: $0.retention) })
        ]
        retention.bands = latentGenerationBands()
        if let latent = folder.config?.latent, latent.usesMetaLearner {
            let threshold = latent.retentionThreshold
            retention.references = [
                LineChart.ReferenceLine(y: threshold, label: "threshold \(HTML.number(threshold, digits: 3))")
            ]
        }
        out += retention.html()
        var previous = "weights"
        let rows = rounds.suffix(Self.tableLimit).map { r -> [String] in
            let decision =
                r.phase == "anchored"
                ? "residual decoder (anchored latent)"
                : r.phase == previous
                    ? "stay in \(r.phase)" : (r.phase == "latent" ? "enter latent" : "fall back to weights")
            previous = r.phase
            return [
                "\(r.generation)", "\(r.steps)", HTML.number(r.reconstruction, digits: 4),
                HTML.number(r.behaviour, digits: 4), HTML.number(r.gap, digits: 4),
                HTML.number(r.head, digits: 4), HTML.number(r.retention, digits: 4), decision, "\(r.evaluations)",
            ]
        }
        if rounds.count > Self.tableLimit {
            out += "<p class=\"note\">The last \(Self.tableLimit) of \(rounds.count) rounds:</p>\n"
        }
        out += HTML.table(
            header: [
                "generation", "steps", "reconstruction", "behaviour", "gap", "fitness head", "retention",
                "phase decision", "re-scored",
            ], rows: rows)
        return out
    }

    /// Rows shown in the long tables (rounds, edges) at most.
    static var tableLimit: Int { 500 }

    /// The latent phase as bands over generations (for charts whose x axis is the generation).
    func latentGenerationBands() -> [LineChart.Band] {
        curves.latentSpans.map {
            LineChart.Band(
                from: Double($0.first - 1), to: Double($0.last), label: "latent phase",
                attributes: [("from-generation", "\($0.first)"), ("to-generation", "\($0.last)")])
        }
    }

    /// Time shares per rank over the whole run, and evaluations per second per generation.
    func timeSection() -> String {
        let timings = folder.timings
        guard !timings.isEmpty else { return "" }
        var out = "<h2>Time</h2>\n"
        let ranks = Set(timings.map(\.rank)).sorted()
        let parts: [(name: String, colour: String)] = [
            ("evolve (breed, decode, evaluate)", LineChart.colour(0)), ("migration", LineChart.colour(1)),
            ("meta-training (without allreduce)", LineChart.colour(2)), ("allreduce", LineChart.colour(3)),
            ("checkpoint", LineChart.colour(4)),
        ]
        let bars = ranks.map { rank -> (name: String, values: [Double]) in
            var v = [Double](repeating: 0, count: 5)
            for t in timings where t.rank == rank {
                v[0] += t.evolve
                v[1] += t.migrate
                v[2] += max(t.metaTraining - t.allreduce, 0)
                v[3] += t.allreduce
                v[4] += t.checkpoint
            }
            return ("rank \(rank)", v)
        }
        out += StackedBarChart(
            title: "Where each rank's time went (sum over generations)", valueLabel: "seconds", parts: parts, bars: bars
        ).html()
        out +=
            "<p class=\"note\">Decoding latents is part of <i>evolve</i> (timings.jsonl does not separate it); the time to gather and log each generation's metrics is not counted.</p>\n"

        // Evaluations per second: networks scored in a generation over the slowest rank's time.
        var slowest: [Int: Double] = [:]
        for t in timings { slowest[t.generation] = max(slowest[t.generation] ?? 0, t.total) }
        var points: [ChartPoint] = []
        for i in curves.generations.indices.dropFirst() {
            let g = curves.generations[i]
            if let seconds = slowest[g], seconds > 0 {
                points.append(
                    ChartPoint(x: Double(g), y: (curves.totalEvaluations[i] - curves.totalEvaluations[i - 1]) / seconds)
                )
            }
        }
        if !points.isEmpty {
            var chart = LineChart(
                title: "Evaluations per second, per generation (all islands)", xLabel: "generation",
                yLabel: "evaluations / s")
            chart.series = [
                LineChart.Series(name: "evaluations per second", colour: LineChart.colour(0), points: points)
            ]
            chart.bands = latentGenerationBands()
            out += chart.html()
        }
        return out
    }

    /// The topology drawn, and the moves along every edge.
    func migrationSection() -> String {
        guard let config = folder.config, let schedule = try? MigrationSchedule(config: config) else { return "" }
        var out = "<h2>Migration</h2>\n"
        let last = curves.generations.last ?? 0
        let rankCount = folder.environment?.ranks.count ?? Set(folder.timings.map(\.rank)).count
        let placement = try? IslandPlacement(islandCount: config.islands.count, rankCount: max(rankCount, 1))
        var gridRows: Int?
        if config.topology.kind == .torus {
            let n = config.islands.count
            gridRows = config.topology.rows ?? (1...n).last { n % $0 == 0 && $0 * $0 <= n }
        }
        out += "<div class=\"grid2\"><div>"
        out += TopologyDrawing(topology: schedule.topology, gridRows: gridRows, placement: placement).html()
        out += "</div><div>"
        let moves = schedule.moves(throughGeneration: last)
        let rows = moves.prefix(Self.tableLimit).map { m in
            [
                "\(m.edge.source) → \(m.edge.destination)", HTML.number(m.edge.probability, digits: 3), "\(m.events)",
                "\(m.genomes)",
            ]
        }
        out +=
            "<p class=\"note\">Every \(schedule.interval) generations, \(schedule.emigrants) emigrant(s) per firing edge (\(config.migration.emigrants.rawValue) out, replacing \(config.migration.immigrants.rawValue)); moves up to generation \(last), from the schedule the config fixes.</p>\n"
        if moves.isEmpty {
            out += "<p class=\"note\">The topology has no edges: the islands never exchange migrants.</p>\n"
        } else {
            if moves.count > Self.tableLimit {
                out += "<p class=\"note\">The first \(Self.tableLimit) of \(moves.count) edges:</p>\n"
            }
            out += HTML.table(header: ["edge", "probability", "migrations", "genomes moved"], rows: rows)
        }
        let received = Dictionary(folder.metrics.map { ($0.island, $0.bytesMigrated) }, uniquingKeysWith: { $1 })
        if !received.isEmpty {
            out += "<h3>Received per island (metrics.jsonl)</h3>\n"
            out += HTML.table(
                header: ["island", "bytes of migrants received"],
                rows: received.keys.sorted().map { ["\($0)", "\(received[$0]!)"] })
        }
        return out + "</div></div>\n"
    }

    /// Versions, rank count and hosts.
    func environmentSection() -> String {
        var rows: [(String, String)] = []
        let timingRanks = Set(folder.timings.map(\.rank)).count
        if let environment = folder.environment {
            rows.append(("atoll", environment.atollVersion))
            rows.append(
                (
                    "MPI library",
                    environment.mpiLibrary?.split(separator: "\n").joined(separator: "; ")
                        ?? "none (ranks were threads of one process)"
                ))
            rows.append(("operating system", environment.operatingSystem))
            rows.append(("ranks", "\(environment.ranks.count)"))
            let hosts = Dictionary(grouping: environment.ranks, by: \.host)
            for host in hosts.keys.sorted() {
                let ranks = hosts[host]!.map { "\($0.rank)" }.joined(separator: ", ")
                rows.append(("host \(host)", "rank(s) \(ranks); \(hosts[host]![0].cores) core(s)"))
            }
        } else {
            rows.append(("ranks", timingRanks > 0 ? "\(timingRanks) (from timings.jsonl)" : "unknown"))
            rows.append(
                ("hosts, versions", "not recorded yet: \(RunEnvironment.fileName) is written when the run ends"))
        }
        rows.append(("report made by", generator))
        return "<h2>Environment</h2>\n" + HTML.keyValueTable(rows)
    }
}
