import Evolution
import Networks

/// EGGROLL (`LowRankES`) on low-rank codes: the population's rows are codes, never written out
/// as genomes. Codes of a network the task runs at low rank (`FitnessTask.supportsLowRank`) are
/// scored as they are, and only a row that beats the island's best is decoded (to keep it);
/// otherwise rows are decoded `evolution.tile` at a time into one reused buffer and scored as
/// genomes. Emigrants leave decoded into genomes; immigrants (genomes) go to the algorithm, which
/// ranks them with its next codes.
struct CodeSearch: IslandSearch {
    var lowRank: LowRankES

    var algorithm: any IslandAlgorithm { lowRank }

    mutating func ask(
        _ population: inout Population, scratch: inout Population, key: StreamKey, with evaluator: CandidateEvaluator
    ) -> Range<Int> {
        lowRank.nextGeneration(&population, scratch: &scratch, key: key)
    }

    func evaluate(
        _ population: inout Population, rows: Range<Int>, history: inout IslandHistory, key: StreamKey,
        with evaluator: CandidateEvaluator
    ) throws {
        let (network, task) = (evaluator.network, evaluator.task)
        let D = lowRank.genomeDimension
        if task.supportsLowRank(network) && lowRank.blocks == RunConfig.lowRankBlocks(network.layout) {
            var scores = [Float](repeating: 0, count: rows.count)
            try lowRank.mean.withUnsafeBufferPointer { mean in
                try population.genes.withUnsafeBufferPointer { codes in
                    try scores.withUnsafeMutableBufferPointer { out in
                        let genomes = LowRankGenomes(
                            anchor: mean.baseAddress!,
                            codes: codes.baseAddress! + rows.lowerBound * lowRank.codeDimension,
                            stride: lowRank.codeDimension, rank: lowRank.codeRank, sigmas: lowRank.sigmas)
                        try task.evaluate(
                            lowRank: genomes, populationSize: rows.count, network: network,
                            generation: key.generation, seed: key.seed, fitness: out)
                    }
                }
            }
            for (offset, row) in rows.enumerated() { population.fitness[row] = scores[offset] }
            history.evaluations += rows.count
            // On a re-scored task the island's result is its evaluated mean where it has one.
            let meanRow = evaluator.rescoresSurvivors ? lowRank.meanRow.flatMap { rows.contains($0) ? $0 : nil } : nil
            if let best = meanRow.map({ $0 - rows.lowerBound }) ?? Population.ranking(scores).first,
                history.isImprovement(scores[best])
            {
                var genome = [Float](repeating: 0, count: D)
                genome.withUnsafeMutableBufferPointer {
                    lowRank.decode(population, rows: rows.lowerBound + best..<rows.lowerBound + best + 1, into: $0)
                }
                genome.withUnsafeBufferPointer { history.record(weights: $0, fitness: [scores[best]]) }
            }
            return
        }
        let T = min(evaluator.tile, rows.count)
        if evaluator.tileBuffer.count != T * D { evaluator.tileBuffer = [Float](repeating: 0, count: T * D) }
        var scores = [Float](repeating: 0, count: T)
        for t0 in stride(from: rows.lowerBound, to: rows.upperBound, by: T) {
            let t = min(T, rows.upperBound - t0)
            evaluator.tileBuffer.withUnsafeMutableBufferPointer {
                lowRank.decode(population, rows: t0..<t0 + t, into: $0)
            }
            try evaluator.tileBuffer.withUnsafeBufferPointer { genomes in
                let tile = UnsafeBufferPointer(rebasing: genomes[0..<t * D])
                try scores.withUnsafeMutableBufferPointer { out in
                    try task.evaluate(
                        genomes: tile, populationSize: t, network: network, generation: key.generation,
                        seed: key.seed, fitness: UnsafeMutableBufferPointer(rebasing: out[0..<t]))
                }
                for i in 0..<t { population.fitness[t0 + i] = scores[i] }
                history.record(weights: tile, fitness: Array(scores[0..<t]))
            }
        }
        history.evaluations += rows.count
    }

    func migrantDimension(of population: Population) -> Int { lowRank.genomeDimension }

    func migrants(_ chosen: Population) -> Population {
        var genes = [Float](repeating: 0, count: chosen.count * lowRank.genomeDimension)
        genes.withUnsafeMutableBufferPointer { lowRank.decode(chosen, rows: 0..<chosen.count, into: $0) }
        return chosen.replacingGenes(genes, dimension: lowRank.genomeDimension, fitness: chosen.fitness)
    }

    mutating func receive(
        _ immigrants: Population, into population: inout Population, replacement: ImmigrantReplacement
    ) {
        lowRank.receive(immigrants: immigrants)
    }
}
