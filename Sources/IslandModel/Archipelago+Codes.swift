import Evolution
import Kernels
import Networks
import Tasks

/// Islands whose population rows are codes, not genomes (`DecodingIslandAlgorithm`: EGGROLL's
/// `LowRankES`): their generation 0 and their evaluation, neither of which writes the population
/// out as full genomes.
extension Archipelago {
    /// Generation 0 of an island whose rows are codes (`evolution.algorithm: eggroll`): the same
    /// networks as `initial` makes, evaluated `evolution.tile` at a time so that the population
    /// never exists as full genomes; the best becomes the first mean. The population is `P` codes
    /// of zeros with the initial networks' fitness (the first generation draws real codes).
    static func initialDecodingIsland(_ index: Int, config: RunConfig, network: Network, task: any FitnessTask) throws
        -> Island
    {
        let P = config.islands.population
        let T = min(config.evolution.tile, P)
        var tile = Population(count: T, dimension: network.parameterCount)
        var fitness: [Float] = []
        var best: (fitness: Float, genome: [Float])?
        for t0 in stride(from: 0, to: P, by: T) {
            let t = min(T, P - t0)
            if tile.count != t { tile.resize(count: t) }
            for i in 0..<t {
                var stream = RandomStream(
                    seed: config.seed, island: index, generation: 0, purpose: "initialization#\(t0 + i)")
                tile.withRow(i) { network.initialize($0, stream: &stream) }
            }
            try evaluate(&tile, rows: 0..<t, generation: 0, seed: config.seed, network: network, task: task)
            fitness += tile.fitness
            let i = tile.bestIndex
            if best == nil || Population.rankingValue(tile.fitness[i]) > Population.rankingValue(best!.fitness) {
                best = (tile.fitness[i], Array(tile.row(i)))
            }
        }
        let algorithm = config.islandAlgorithm(best: best!.genome, network: network)
        var codes = Population(count: P, dimension: (algorithm as! any DecodingIslandAlgorithm).codeDimension)
        codes.fitness = fitness
        codes.assignIDs(key: StreamKey(seed: config.seed, island: index, generation: 0))
        var island = Island(index: index, population: codes, algorithm: algorithm)
        island.evaluations = P
        if best!.fitness.isFinite { (island.bestFitness, island.bestGenome) = best! }
        return island
    }

    /// Scores rows `rows` of island `k`'s codes. EGGROLL codes of a network the task runs at low
    /// rank (`FitnessTask.supportsLowRank`) are scored as they are, and only a row that beats the
    /// island's best is decoded (to keep it); otherwise rows are decoded `evolution.tile` at a time
    /// into one reused buffer and evaluated as genomes. Either way the population never exists as
    /// full genomes.
    func evaluateDecoded(island k: Int, rows: Range<Int>, generation: Int) throws {
        guard let decoding = islands[k].decoding else {
            preconditionFailure("island \(islands[k].index) does not keep codes")
        }
        let D = decoding.genomeDimension
        if let lowRank = decoding as? LowRankES, task.supportsLowRank(network),
            lowRank.blocks == RunConfig.lowRankBlocks(network.layout)
        {
            var scores = [Float](repeating: 0, count: rows.count)
            try lowRank.mean.withUnsafeBufferPointer { mean in
                try islands[k].population.genes.withUnsafeBufferPointer { codes in
                    try scores.withUnsafeMutableBufferPointer { out in
                        let genomes = LowRankGenomes(
                            anchor: mean.baseAddress!,
                            codes: codes.baseAddress! + rows.lowerBound * lowRank.codeDimension,
                            stride: lowRank.codeDimension, rank: lowRank.codeRank, sigmas: lowRank.sigmas)
                        try task.evaluate(
                            lowRank: genomes, populationSize: rows.count, network: network, generation: generation,
                            seed: config.seed, fitness: out)
                    }
                }
            }
            for (offset, row) in rows.enumerated() { islands[k].population.fitness[row] = scores[offset] }
            islands[k].evaluations += rows.count
            // On a rescoring task the island's result is its evaluated mean where it has one.
            let meanRow = task.rescoresSurvivors ? lowRank.meanRow.flatMap { rows.contains($0) ? $0 : nil } : nil
            if let best = meanRow.map({ $0 - rows.lowerBound }) ?? Population.ranking(scores).first,
                Population.rankingValue(scores[best]) > Population.rankingValue(islands[k].bestFitness)
                    || islands[k].bestGenome.isEmpty
            {
                var genome = [Float](repeating: 0, count: D)
                genome.withUnsafeMutableBufferPointer {
                    decoding.decode(
                        islands[k].population, rows: rows.lowerBound + best..<rows.lowerBound + best + 1, into: $0)
                }
                genome.withUnsafeBufferPointer { islands[k].record(weights: $0, fitness: [scores[best]]) }
            }
            return
        }
        let T = min(config.evolution.tile, rows.count)
        if decodeTile.count != T * D { decodeTile = [Float](repeating: 0, count: T * D) }
        var scores = [Float](repeating: 0, count: T)
        for t0 in stride(from: rows.lowerBound, to: rows.upperBound, by: T) {
            let t = min(T, rows.upperBound - t0)
            decodeTile.withUnsafeMutableBufferPointer {
                decoding.decode(islands[k].population, rows: t0..<t0 + t, into: $0)
            }
            try decodeTile.withUnsafeBufferPointer { genomes in
                let tile = UnsafeBufferPointer(rebasing: genomes[0..<t * D])
                try scores.withUnsafeMutableBufferPointer { out in
                    try task.evaluate(
                        genomes: tile, populationSize: t, network: network, generation: generation, seed: config.seed,
                        fitness: UnsafeMutableBufferPointer(rebasing: out[0..<t]))
                }
                for i in 0..<t { islands[k].population.fitness[t0 + i] = scores[i] }
                islands[k].record(weights: tile, fitness: Array(scores[0..<t]))
            }
        }
        islands[k].evaluations += rows.count
    }
}
