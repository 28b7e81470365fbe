import Evolution
import Foundation

/// What a run shows: the progress line after a generation, and at the end the results (the best
/// network, `summary.json`, the meta-learner) with the summary table.
extension Run {
    // MARK: The progress line

    /// Rank 0's progress line (at most every 2 s unless `final` or on a terminal): the generation,
    /// the space the islands search (`Archipelago.searchSpace`), the best fitness, evaluations, the
    /// rate, the clock, non-finite values and the time left.
    func showProgress(final: Bool) {
        guard communicator.rank == 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard final || options.interactive || now - lastProgressLine >= 2_000_000_000 || generation == 1 else { return }
        lastProgressLine = now
        let rate = Double(progress.evaluations) / max(progress.elapsedSeconds, 1e-9)
        var line = String(format: "gen %d", generation)
        if let limit = config.stop.generations { line += "/\(limit)" }
        line += String(
            format: "  \(archipelago.searchSpace)  best %.6g  %d evals  %.0f evals/s  %@", progress.bestFitness,
            progress.evaluations, rate, Self.clock(progress.elapsedSeconds))
        if nonFinite > 0 { line += "  \(nonFinite) non-finite" }
        if let limit = config.stop.generations, generation > 0 {
            let left = progress.elapsedSeconds / Double(generation) * (Double(limit) - Double(generation))
            line += "  ~\(Self.clock(left)) left"
        }
        if options.interactive {
            options.output("\r\u{1B}[K" + line + (final ? "\n" : ""))
        } else {
            options.output(line + "\n")
        }
    }

    /// `seconds` as m:ss or h:mm:ss; negative or NaN as 0:00, past 99,999 hours as `>99999:00:00`.
    static func clock(_ seconds: Double) -> String {
        guard !(seconds >= 99_999 * 3600) else { return ">99999:00:00" }
        let s = seconds > 0 ? Int(seconds.rounded()) : 0
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    // MARK: The end

    /// Finds the best genome over all islands, writes `best.safetensors` and `summary.json`, and
    /// prints the summary table on rank 0.
    func finish(stopReason: StopReason) throws -> RunSummary {
        let winner = try overallBest()
        let network = archipelago.network
        let genome = winner.genome

        var memory = [Double](repeating: 0, count: 1)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        memory[0] = Double(usage.ru_maxrss) / 1024
        let peaks = try communicator.allgather(memory)

        var summary = RunSummary(
            generations: generation, stopReason: stopReason.rawValue, fitnessName: archipelago.task.fitnessName,
            bestFitness: winner.fitness, bestIsland: winner.island, testAccuracy: nil,
            evaluations: progress.evaluations,
            wallSeconds: progress.elapsedSeconds, peakMemoryMiB: peaks, blas: blas, directory: directory.path)
        if let (report, record) = try fullEvaluation(of: winner, generation: generation) {
            if logsFullEvaluations && record.trainLoss != nil { try metricsLog?.append(record) }
            summary.trainAccuracy = report.split("train")?.accuracy
            summary.testAccuracy = report.split("test")?.accuracy
            var metadata = [
                "task": archipelago.task.name, "fitness": "\(winner.fitness)",
                "fitness_name": archipelago.task.fitnessName,
                "island": "\(winner.island)", "generation": "\(generation)",
            ]
            if let accuracy = summary.testAccuracy { metadata["test_accuracy"] = "\(accuracy)" }
            try folder?.writeResults(
                summary: summary, best: genome, network: network, metadata: metadata,
                metaLearner: try archipelago.design?.metaLearner.files() ?? [:])
            options.output(summary.table())
        }
        return summary
    }
}
