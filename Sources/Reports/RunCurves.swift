import Foundation
import IslandModel

/// The curves of one run, worked out from its `metrics.jsonl`: per island, best and mean
/// fitness against the island's evaluations; over all islands, the best so far against all
/// evaluations; and the stretches of generations spent in the latent phase.
public struct RunCurves {
    /// One island's line: a point per generation logged, x = its evaluations so far.
    public struct IslandCurve {
        public var island: Int
        public var generations: [Int]
        public var best: [ChartPoint]
        public var mean: [ChartPoint]
    }

    /// Consecutive generations `first … last` in the latent phase, and the mean per-island
    /// evaluations just before `first` and at the end of `last` (the band's x range).
    public struct PhaseSpan: Equatable {
        public var first: Int
        public var last: Int
        public var fromEvaluations: Double
        public var toEvaluations: Double
        public var fromTotalEvaluations: Double
        public var toTotalEvaluations: Double
    }

    public let islands: [IslandCurve]
    public let latentSpans: [PhaseSpan]
    /// Generations logged, in order.
    public let generations: [Int]
    /// Per generation: evaluations summed over the islands.
    public let totalEvaluations: [Double]
    /// Per generation: the best fitness seen so far on any island.
    public let bestSoFar: [Double]
    /// Per generation: the mean over islands of the population mean fitness.
    public let meanOfMeans: [Double]

    public init(metrics: [IslandMetrics]) {
        var byIsland: [Int: IslandCurve] = [:]
        var byGeneration: [Int: [IslandMetrics]] = [:]
        for m in metrics {
            byIsland[m.island, default: IslandCurve(island: m.island, generations: [], best: [], mean: [])].generations
                .append(m.generation)
            byIsland[m.island]!.best.append(ChartPoint(x: Double(m.evaluations), y: Double(m.best)))
            byIsland[m.island]!.mean.append(ChartPoint(x: Double(m.evaluations), y: Double(m.mean)))
            byGeneration[m.generation, default: []].append(m)
        }
        islands = byIsland.keys.sorted().map { byIsland[$0]! }
        generations = byGeneration.keys.sorted()
        var total: [Double] = []
        var best: [Double] = []
        var means: [Double] = []
        var perIsland: [Double] = []
        var bestEver = -Double.infinity
        var latentGenerations: [Bool] = []
        for g in generations {
            let rows = byGeneration[g]!
            let evaluations = rows.reduce(0.0) { $0 + Double($1.evaluations) }
            total.append(evaluations)
            perIsland.append(evaluations / Double(rows.count))
            bestEver = max(bestEver, rows.map { Double($0.bestEver) }.max() ?? bestEver)
            best.append(bestEver)
            means.append(rows.reduce(0.0) { $0 + Double($1.mean) } / Double(rows.count))
            latentGenerations.append(rows.contains { $0.phase == "latent" })
        }
        totalEvaluations = total
        bestSoFar = best
        meanOfMeans = means
        var spans: [PhaseSpan] = []
        var i = 0
        while i < generations.count {
            guard latentGenerations[i] else {
                i += 1
                continue
            }
            var j = i
            while j + 1 < generations.count && latentGenerations[j + 1] { j += 1 }
            let before = max(i - 1, 0)
            spans.append(
                PhaseSpan(
                    first: generations[i], last: generations[j], fromEvaluations: perIsland[before],
                    toEvaluations: perIsland[j],
                    fromTotalEvaluations: total[before], toTotalEvaluations: total[j]))
            i = j + 1
        }
        latentSpans = spans
    }

    /// The latent phase as chart bands over per-island evaluations.
    public func latentBands(colour: String = "#f6d98b", label: String = "latent phase") -> [LineChart.Band] {
        latentSpans.map {
            LineChart.Band(
                from: $0.fromEvaluations, to: $0.toEvaluations, colour: colour, label: label,
                attributes: [("from-generation", "\($0.first)"), ("to-generation", "\($0.last)")])
        }
    }
}
