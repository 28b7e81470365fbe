import Evolution
import Foundation
import Networks
import Tasks

/// What an island's search needs to score its candidates: the task and network, the tile size
/// of decoded codes with its reused buffer, and the meta-learner where a design decodes with it.
/// One per rank, shared by its islands (they run one after the other).
final class CandidateEvaluator {
    let network: Network
    let task: any FitnessTask
    /// Codes decoded and scored at a time (`evolution.tile`).
    let tile: Int
    /// Reused `[tile × D]` buffer of the genomes decoded from codes (`CodeSearch`).
    var tileBuffer: [Float] = []
    /// The meta-learner that decodes the anchored latent's residuals (`AnchoredSearch`), when the
    /// run trains one.
    var metaLearner: MetaLearner?
    /// Seconds spent decoding with the meta-learner since `Run` last reset it.
    var decodeSeconds = 0.0

    init(network: Network, task: any FitnessTask, tile: Int) {
        self.network = network
        self.task = task
        self.tile = tile
    }

    /// Whether the task scores every generation on new conditions (minibatches, episodes): the
    /// survivors are scored again with the children, and an island's best is this generation's.
    var rescoresSurvivors: Bool { task.rescoresSurvivors }

    /// Scores rows `rows` of `population` (genomes) with the task, on the conditions of `key`'s
    /// generation.
    func evaluate(_ population: inout Population, rows: Range<Int>, key: StreamKey) throws {
        guard !rows.isEmpty else { return }
        let d = population.dimension
        var scores = [Float](repeating: 0, count: rows.count)
        try population.genes.withUnsafeBufferPointer { genes in
            try scores.withUnsafeMutableBufferPointer { out in
                try task.evaluate(
                    genomes: UnsafeBufferPointer(rebasing: genes[rows.lowerBound * d..<rows.upperBound * d]),
                    populationSize: rows.count, network: network, generation: key.generation, seed: key.seed,
                    fitness: out)
            }
        }
        for (offset, row) in rows.enumerated() { population.fitness[row] = scores[offset] }
    }

    /// `metaLearner.decode(latents)`, its seconds added to `decodeSeconds`.
    func decode(_ latents: [Float], count: Int, with metaLearner: MetaLearner) -> [Float] {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { decodeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
        return metaLearner.decode(latents, count: count)
    }
}
