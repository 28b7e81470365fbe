import Foundation
import Tasks

/// The run's best genome, found over all ranks, and its full evaluation.
extension Run {
    /// Whether `metrics.jsonl` gets `FullEvaluationRecord` lines: with `task.options.eval_every`
    /// (then also after the last generation) or minibatch fitness (then after the last generation).
    var logsFullEvaluations: Bool { config.task.options.evalEvery != nil || config.task.options.batch != nil }

    /// The genome with the highest best-ever fitness over all islands (the lower island index on
    /// a tie), on every rank: one allgatherv of the islands' best fitness, one broadcast from the
    /// rank that hosts the winner.
    func overallBest() throws -> (fitness: Float, island: Int, genome: [Float]) {
        let localBest = archipelago.islands.map { [Double($0.bestFitness), Double($0.index)] }
        let candidates = try communicator.allgatherv(localBest.flatMap { $0 })
            .flatMap { values in
                stride(from: 0, to: values.count, by: 2).map {
                    (fitness: Float(values[$0]), island: Int(values[$0 + 1]))
                }
            }
        let winner = candidates.max { a, b in a.fitness != b.fitness ? a.fitness < b.fitness : a.island > b.island }!
        var genome =
            archipelago.islands.first { $0.index == winner.island }?.bestGenome
            ?? [Float](repeating: 0, count: archipelago.network.parameterCount)
        try communicator.broadcast(&genome, root: archipelago.placement.rank(of: winner.island))
        return (winner.fitness, winner.island, genome)
    }

    /// On rank 0: the task's report of `best` after `generation` (fitness on that generation's
    /// conditions, loss and accuracy on every training and test sample); `nil` on other ranks.
    func fullEvaluation(of best: (fitness: Float, island: Int, genome: [Float]), generation: Int) throws -> (
        TaskReport, FullEvaluationRecord
    )? {
        guard communicator.rank == 0 else { return nil }
        let report = try archipelago.task.report(
            genome: best.genome, network: archipelago.network, generation: generation, seed: config.seed)
        return (
            report,
            FullEvaluationRecord(generation: generation, island: best.island, fitness: best.fitness, report: report)
        )
    }
}
