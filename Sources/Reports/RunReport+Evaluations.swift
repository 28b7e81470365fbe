import Foundation
import IslandModel

/// The report's answers to what a reader asks after the fitness curves: how the held-out figures
/// moved over the run, which kind of candidate won, and the loss on a log axis when it spans decades.
extension RunReport {
    /// Whether the positive finite values span a decade or more (highest / lowest ≥ 10), so that a
    /// linear axis would flatten all but the first part of the curve.
    static func spansDecades(_ values: [Double]) -> Bool {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        guard let low = positive.min(), let high = positive.max() else { return false }
        return high / low >= 10
    }

    /// The fitness's name: the summary's, else the config's `task.options.fitness` (for a run not
    /// finished yet), else `fitness`.
    var fitnessName: String {
        folder.summary?.fitnessName ?? folder.config?.task.options.fitness?.rawValue ?? "fitness"
    }

    /// For a fitness that is a negated loss (`neg_cross_entropy`, `neg_mse`): the loss of each
    /// island's best, `−best`, against its evaluations on a log axis, when it spans a decade or
    /// more (a linear axis then shows only the first drop). Empty otherwise.
    func lossChart(fitnessName: String) -> String {
        guard fitnessName.hasPrefix("neg_") else { return "" }
        let losses = curves.islands.map { island in (island.island, island.best.map { ChartPoint(x: $0.x, y: -$0.y) }) }
        let values = losses.flatMap { $0.1.map(\.y) }
        guard Self.spansDecades(values) else { return "" }
        let loss = String(fitnessName.dropFirst(4))
        var chart = LineChart(
            title: "Best \(loss) of each generation (log scale)",
            xLabel: "evaluations (networks scored on the island so far)",
            yLabel: "\(loss) = −fitness (log scale, lower is better)")
        chart.logarithmicY = true
        chart.series = losses.map {
            LineChart.Series(name: "island \($0.0)", colour: LineChart.colour($0.0), points: $0.1)
        }
        chart.bands = curves.latentBands()
        return chart.html()
    }

    /// The run's best network on the held-out split: the final figure, and, when the run logs full
    /// evaluations (`task.options.eval_every`, minibatch fitness), its accuracy and loss at each
    /// one as curves against all islands' evaluations, with a table.
    func heldOutSection() -> String {
        let records = folder.fullEvaluations
        let finalAccuracy = folder.summary?.testAccuracy
        guard !records.isEmpty || finalAccuracy != nil else { return "" }
        var out = "<h3>Held-out split</h3>\n"
        if let accuracy = finalAccuracy {
            out +=
                "<p>Test accuracy of the best network: <b>\(String(format: "%.4f", accuracy))</b> (\(String(format: "%.2f", accuracy * 100)) % of the test split classified correctly).</p>\n"
        }
        guard !records.isEmpty else {
            return out
                + "<p class=\"note\">The run logs it for the final network only (<code>task.options.eval_every: N</code> logs it every N generations).</p>\n"
        }
        var evaluations: [Int: Double] = [:]
        for (g, total) in zip(curves.generations, curves.totalEvaluations) { evaluations[g] = total }
        func points(_ value: (FullEvaluationRecord) -> Double?) -> [ChartPoint] {
            records.compactMap { r in
                guard let v = value(r), let x = evaluations[r.generation] else { return nil }
                return ChartPoint(x: x, y: v)
            }
        }
        let xLabel = "evaluations (networks scored on all islands so far)"
        let splits = records.contains { $0.testLoss != nil || $0.trainLoss != nil }
        out +=
            "<p class=\"note\">The run's best network "
            + (splits
                ? "scored on every sample of each split"
                : "and its fitness on that generation's conditions (the task has no held-out split; a control task's episodes start where that generation's did)")
            + ", at each of the \(records.count) full evaluations in metrics.jsonl (every <code>task.options.eval_every</code> generations and after the last).</p>\n"
        let testAccuracy = points(\.testAccuracy)
        let trainAccuracy = points(\.trainAccuracy)
        if !testAccuracy.isEmpty || !trainAccuracy.isEmpty {
            var chart = LineChart(
                title: "Accuracy of the best network at each full evaluation", xLabel: xLabel,
                yLabel: "accuracy (share classified correctly)")
            if !testAccuracy.isEmpty {
                chart.series.append(
                    LineChart.Series(name: "test accuracy", colour: LineChart.colour(0), points: testAccuracy))
            }
            if !trainAccuracy.isEmpty {
                chart.series.append(
                    LineChart.Series(
                        name: "train accuracy", colour: LineChart.colour(1), points: trainAccuracy, dashed: true))
            }
            out += chart.html()
        }
        let testLoss = points(\.testLoss)
        let trainLoss = points(\.trainLoss)
        if !testLoss.isEmpty || !trainLoss.isEmpty {
            let logarithmic = Self.spansDecades((testLoss + trainLoss).map(\.y))
            var chart = LineChart(
                title: "Loss of the best network at each full evaluation\(logarithmic ? " (log scale)" : "")",
                xLabel: xLabel,
                yLabel: logarithmic ? "loss (log scale, lower is better)" : "loss (lower is better)")
            chart.logarithmicY = logarithmic
            if !testLoss.isEmpty {
                chart.series.append(LineChart.Series(name: "test loss", colour: LineChart.colour(0), points: testLoss))
            }
            if !trainLoss.isEmpty {
                chart.series.append(
                    LineChart.Series(name: "train loss", colour: LineChart.colour(1), points: trainLoss, dashed: true))
            }
            out += chart.html()
        }
        if testAccuracy.isEmpty && testLoss.isEmpty {
            var chart = LineChart(
                title: "Fitness of the best network at each full evaluation", xLabel: xLabel,
                yLabel: "\(fitnessName) (higher is better)")
            chart.series = [
                LineChart.Series(name: "fitness", colour: LineChart.colour(0), points: points { Double($0.fitness) })
            ]
            out += chart.html()
        }
        let digits = { (v: Double?) in v.map { HTML.number($0, digits: 4) } ?? "–" }
        let rows = records.suffix(Self.tableLimit).map { r -> [String] in
            [
                "\(r.generation)", evaluations[r.generation].map { String(format: "%.0f", $0) } ?? "–", "\(r.island)",
                HTML.number(Double(r.fitness), digits: 5),
                digits(r.trainLoss), digits(r.testLoss), digits(r.trainAccuracy), digits(r.testAccuracy),
            ]
        }
        if records.count > Self.tableLimit {
            out += "<p class=\"note\">The last \(Self.tableLimit) of \(records.count) full evaluations:</p>\n"
        }
        out += HTML.table(
            header: [
                "generation", "evaluations", "island", "fitness", "train loss", "test loss", "train accuracy",
                "test accuracy",
            ], rows: rows)
        return out
    }

    /// Kinds of candidate in the order the strip and bars show them: the anchored latent's known
    /// kinds first, any other after them, alphabetically.
    static func orderedKinds(_ kinds: Set<String>) -> [String] {
        let known = ["center", "full", "latent", "guided", "decoded", "focus"]
        return known.filter(kinds.contains) + kinds.subtracting(known).sorted()
    }

    /// For designs that mix kinds of candidate (`best_kind` in metrics.jsonl): how many
    /// generations each kind was an island's best, per island and over all, and a strip over
    /// generations. Empty for runs whose lines carry no kind.
    func bestKindSection() -> String {
        let lines = folder.metrics.filter { $0.bestKind != nil }
        guard !lines.isEmpty else { return "" }
        let kinds = Self.orderedKinds(Set(lines.map { $0.bestKind! }))
        let colours = Dictionary(
            uniqueKeysWithValues: kinds.enumerated().map { ($0.element, LineChart.colour($0.offset)) })
        let islands = Set(lines.map(\.island)).sorted()
        var counts: [Int: [String: Int]] = [:]
        for line in lines { counts[line.island, default: [:]][line.bestKind!, default: 0] += 1 }
        var bars = islands.map { island in
            (name: "island \(island)", values: kinds.map { Double(counts[island]?[$0] ?? 0) })
        }
        if islands.count > 1 {
            bars.append((name: "all", values: kinds.map { kind in Double(lines.filter { $0.bestKind == kind }.count) }))
        }
        var out = "<h3>Which kind of candidate was best</h3>\n"
        out +=
            "<p class=\"note\">The kind of candidate that scored best on each island in each generation (<code>best_kind</code>): "
            + "<i>center</i> the anchor itself, <i>full</i> a step in full weight space, <i>latent</i> a step along the island's directions, "
            + "<i>guided</i> both, <i>decoded</i> with the meta-learner's decoded correction, <i>focus</i> on the neurons it chose.</p>\n"
        let total = Double(lines.count)
        out += HTML.table(
            header: ["kind", "generations best (all islands)", "share"],
            rows: kinds.map { kind in
                let n = lines.filter { $0.bestKind == kind }.count
                return [kind, "\(n)", String(format: "%.1f %%", Double(n) / total * 100)]
            })
        out += StackedBarChart(
            title: "Generations each kind was the island's best", valueLabel: "generations",
            parts: kinds.map { (name: $0, colour: colours[$0]!) }, bars: bars
        ).html()
        out += KindStrip(
            title: "Best kind over generations",
            lines: lines.map { (generation: $0.generation, island: $0.island, kind: $0.bestKind!) },
            kinds: kinds, colours: colours
        ).html()
        return out
    }
}
