import Evolution
import Foundation

/// One logical island: its population, its counters and the best genome it has seen.
///
/// An island is the unit of placement: it lives on one rank at a time, and everything random in
/// it is keyed by its index, so it evolves the same way whichever rank hosts it.
public struct Island: Sendable {
    /// Logical index, `0 ..< islands.count`.
    public let index: Int
    /// The current, evaluated population: `[P × D]` weights, or `[P × K·d_z]` latents in the
    /// latent phase (fitness is then that of the decoded weights).
    public var population: Population
    /// Evaluated weight-space genomes for the meta-learner (`nil` when the latent phase is off).
    public var archive: Archive?
    /// The algorithm that evolves the population in weight space (its state included).
    public var algorithm: any IslandAlgorithm
    /// The kind of candidate that scored best in the last generation, where the algorithm has
    /// kinds (`SubspaceSNES`: `full`, `latent` or `guided`).
    public var bestKind: String?
    /// Networks evaluated on this island so far.
    public var evaluations = 0
    /// Bytes of genomes received from other islands so far.
    public var bytesReceived = 0
    /// The best fitness this island has seen, and that genome.
    public var bestFitness = -Float.infinity
    public var bestGenome: [Float] = []

    public init(index: Int, population: Population, archive: Archive? = nil, algorithm: any IslandAlgorithm) {
        self.index = index
        self.population = population
        self.archive = archive
        self.algorithm = algorithm
    }

    /// One weight-space generation of the island's algorithm (`scratch`: a second buffer for the
    /// GA); returns the rows of `population` to evaluate.
    public mutating func evolve(scratch: inout Population, key: StreamKey) -> Range<Int> {
        algorithm.nextGeneration(&population, scratch: &scratch, key: key)
    }

    /// The algorithm, when its population rows are codes rather than genomes (`LowRankES`).
    var decoding: (any DecodingIslandAlgorithm)? { algorithm as? any DecodingIslandAlgorithm }

    /// Genes of a migrant: a genome when the rows are codes, else a row of the population (a
    /// genome, or a latent in the absolute latent phase).
    var migrantDimension: Int { decoding?.genomeDimension ?? population.dimension }

    /// `chosen` rows of the population as migrants: decoded into genomes when the rows are codes.
    func migrants(_ chosen: Population) -> Population {
        guard let decoding else { return chosen }
        var genes = [Float](repeating: 0, count: chosen.count * decoding.genomeDimension)
        genes.withUnsafeMutableBufferPointer { decoding.decode(chosen, rows: 0..<chosen.count, into: $0) }
        return Archipelago.population(
            chosen, genes: genes, dimension: decoding.genomeDimension, fitness: chosen.fitness)
    }

    /// Places evaluated `immigrants` with `replacement`, or hands them to an algorithm whose rows
    /// are codes (they join its next update).
    mutating func receive(_ immigrants: Population, replacement: ImmigrantReplacement) {
        guard var decoding else {
            population.insert(immigrants: immigrants, replacement: replacement)
            return
        }
        decoding.receive(immigrants: immigrants)
        algorithm = decoding
    }

    /// Takes the best of `immigrants` (evaluated weight-space genomes) as the best so far if it is
    /// better; unlike `record`, nothing goes into the archive.
    mutating func consider(_ immigrants: Population) {
        guard immigrants.count > 0 else { return }
        let i = immigrants.bestIndex
        if Population.rankingValue(immigrants.fitness[i]) > Population.rankingValue(bestFitness) || bestGenome.isEmpty {
            bestFitness = immigrants.fitness[i]
            bestGenome = Array(immigrants.row(i))
        }
    }

    /// Notes the kind of the best of the evaluated `rows`.
    mutating func noteBestKind(rows: Range<Int>) {
        guard
            let best = rows.max(by: { a, b in
                let (fa, fb) = (
                    population.fitness[a].isNaN ? -.infinity : population.fitness[a],
                    population.fitness[b].isNaN ? -.infinity : population.fitness[b]
                )
                return fa != fb ? fa < fb : a > b
            })
        else { return }
        bestKind = algorithm.candidateKind(row: best)
    }

    /// Keeps the best of `count` evaluated weight-space genomes (`[count × D]`) if it beats the
    /// best so far, and adds them to the archive. With `resultRow`, that genome (the algorithm's
    /// evaluated mean) is the candidate instead of the best-scoring one.
    public mutating func record(weights: UnsafeBufferPointer<Float>, fitness: [Float], resultRow: Int? = nil) {
        archive?.append(genomes: weights, fitness: fitness)
        guard let i = resultRow ?? Population.ranking(fitness).first, fitness[i].isFinite else { return }
        if fitness[i] > bestFitness || bestGenome.isEmpty {
            let d = weights.count / fitness.count
            bestFitness = fitness[i]
            bestGenome = Array(weights[i * d..<(i + 1) * d])
        }
    }

    // MARK: Checkpoint encoding

    static let magic = "ATOLLISL"
    static let version: UInt32 = 4

    /// The island as bytes: magic, version, index, counters, best genome, population, archive,
    /// and the algorithm's state: its JSON, then the raw bytes of its large (`Packed`) arrays,
    /// which the JSON points into (no base64 copy of a `[k × n]` basis).
    func encoded() throws -> Data {
        let packed = PackedBytes()
        let encoder = JSONEncoder()
        encoder.userInfo[PackedBytes.userInfoKey] = packed
        let state = try encoder.encode(algorithm)
        var writer = ByteWriter()
        writer.reserve(
            128 + 4 * bestGenome.count + 16 * population.count + 4 * population.genes.count
                + (archive.map { 4 * ($0.capacity * ($0.dimension + 1)) + 32 } ?? 0) + state.count + packed.data.count)
        writer.append(magic: Self.magic)
        writer.append(Self.version)
        writer.append(UInt64(index))
        writer.append(UInt64(evaluations))
        writer.append(UInt64(bytesReceived))
        writer.append(bestFitness)
        writer.append(bestGenome)
        writer.append(population)
        writer.append(UInt8(archive == nil ? 0 : 1))
        archive?.encode(into: &writer)
        writer.append(bytes: state)
        writer.append(bytes: packed.data)
        return writer.bytes
    }

    /// Reads what `encoded()` wrote; `decodeAlgorithm` reads the algorithm's state with the decoder
    /// it is given (which finds the packed arrays).
    init(decoding data: Data, source: String, decodeAlgorithm: (Data, JSONDecoder) throws -> any IslandAlgorithm) throws
    {
        var reader = ByteReader(data, source: source)
        try reader.expect(magic: Self.magic)
        let version = try reader.read(UInt32.self)
        guard version == Self.version else {
            throw CheckpointError("\(source): island format version \(version), expected \(Self.version)")
        }
        index = try reader.readInt()
        evaluations = try reader.readInt()
        bytesReceived = try reader.readInt()
        bestFitness = try reader.readFloat()
        bestGenome = try reader.readFloats()
        population = try reader.readPopulation()
        archive = try reader.read(UInt8.self) == 1 ? try Archive(decoding: &reader) : nil
        let stateSize = try reader.readCount(limit: data.count)
        let state = try reader.take(stateSize)
        let packedSize = try reader.readCount(limit: data.count)
        let decoder = JSONDecoder()
        decoder.userInfo[PackedBytes.userInfoKey] = PackedBytes(Data(try reader.take(packedSize)))
        do {
            algorithm = try decodeAlgorithm(Data(state), decoder)
        } catch {
            throw CheckpointError("\(source): the island's algorithm state does not decode (\(error))")
        }
        guard reader.isAtEnd else { throw CheckpointError("\(source): unexpected bytes after the island") }
    }
}
