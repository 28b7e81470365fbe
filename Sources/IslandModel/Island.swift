import Evolution
import Foundation

/// One logical island: its population, its search (the algorithm, in the form its candidates
/// take) and its history (counters, the best genome it has seen, the archive).
///
/// An island is the unit of placement: it lives on one rank at a time, and everything random in
/// it is keyed by its index, so it evolves the same way whichever rank hosts it. It runs its own
/// generations (`evolve`); the `Archipelago` only sequences them and moves migrants.
public struct Island: Sendable {
    /// Logical index, `0 ..< islands.count`.
    public let index: Int
    /// The current, evaluated population: `[P × D]` weights, `[P × K·d_z]` latents in the
    /// absolute latent phase (fitness is then that of the decoded weights), or EGGROLL's codes.
    public var population: Population
    /// Reused buffer of the next population where the algorithm breeds into a second one (the GA,
    /// in either space; no allocation per generation); empty for an evolution strategy.
    var scratch: Population
    /// The island's algorithm (its state included) in the form its candidates take: genome rows,
    /// rows awaiting a decoded residual, or low-rank codes.
    var search: any IslandSearch
    /// Networks evaluated, the best so far, the archive.
    public var history = IslandHistory()
    /// Bytes of genomes received from other islands so far.
    public var bytesReceived = 0

    /// An island on genome rows (the GA or an evolution strategy).
    public init(index: Int, population: Population, archive: Archive? = nil, algorithm: any IslandAlgorithm) {
        self.init(index: index, population: population, archive: archive, search: GenomeSearch(algorithm))
    }

    init(index: Int, population: Population, archive: Archive? = nil, search: any IslandSearch) {
        self.index = index
        self.population = population
        self.search = search
        history.archive = archive
        scratch = Self.scratch(population, search)
    }

    /// The scratch buffer: the population's shape when the algorithm breeds into a second buffer,
    /// empty otherwise.
    static func scratch(_ population: Population, _ search: any IslandSearch) -> Population {
        Population(
            count: search.algorithm.needsScratch ? population.count : 0, dimension: population.dimension)
    }

    /// The algorithm and its state.
    public var algorithm: any IslandAlgorithm { search.algorithm }
    public var archive: Archive? { history.archive }
    public var evaluations: Int { history.evaluations }
    public var bestFitness: Float { history.bestFitness }
    public var bestGenome: [Float] { history.bestGenome }
    /// The kind of candidate that scored best in the last generation, where the algorithm has
    /// kinds (`SubspaceSNES`: `full`, `latent`, `guided`, `center`, `decoded` or `focus`; PGPE and
    /// OpenAI-ES: `center`, their evaluated mean); `nil` otherwise.
    public var bestKind: String? { history.bestKind }

    /// One generation of the island in its algorithm's own space: ask for candidates, have them
    /// evaluated, record them (the tell comes with the next ask). On a task that re-scores every
    /// generation (minibatch, episodes) the whole population is scored again and the island's best
    /// is this generation's: scores on different conditions do not compare.
    ///
    /// - Returns: networks evaluated.
    mutating func evolve(key: StreamKey, with evaluator: CandidateEvaluator) throws -> Int {
        let asked = try search.ask(&population, scratch: &scratch, key: key, with: evaluator)
        let rows = evaluator.rescoresSurvivors ? 0..<population.count : asked
        if evaluator.rescoresSurvivors { history.bestFitness = -.infinity }
        try search.evaluate(&population, rows: rows, history: &history, key: key, with: evaluator)
        return rows.count
    }

    /// Genes of a migrant: a genome when the rows are codes, else a row of the population (a
    /// genome, or a latent in the absolute latent phase).
    var migrantDimension: Int { search.migrantDimension(of: population) }

    /// `chosen` rows of the population as migrants (decoded into genomes when the rows are codes).
    func migrants(_ chosen: Population) -> Population { search.migrants(chosen) }

    /// Places evaluated `immigrants` with `replacement`, or hands them to an algorithm whose rows
    /// are codes (they join its next update).
    mutating func receive(_ immigrants: Population, replacement: ImmigrantReplacement) {
        search.receive(immigrants, into: &population, replacement: replacement)
    }

    /// Keeps the best of `count` evaluated weight-space genomes if it beats the best so far, and
    /// adds them to the archive (`IslandHistory.record`).
    public mutating func record(weights: UnsafeBufferPointer<Float>, fitness: [Float], resultRow: Int? = nil) {
        history.record(weights: weights, fitness: fitness, resultRow: resultRow)
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

    /// Reads what `encoded()` wrote; `readSearch` reads the algorithm's state with the JSON
    /// decoder it is given (which finds the packed arrays).
    init(reading data: Data, source: String, readSearch: (Data, JSONDecoder) throws -> any IslandSearch) throws {
        var reader = ByteReader(data, source: source)
        try reader.expect(magic: Self.magic)
        let version = try reader.read(UInt32.self)
        guard version == Self.version else {
            throw CheckpointError("\(source): island format version \(version), expected \(Self.version)")
        }
        index = try reader.readInt()
        history.evaluations = try reader.readInt()
        bytesReceived = try reader.readInt()
        history.bestFitness = try reader.readFloat()
        history.bestGenome = try reader.readFloats()
        population = try reader.readPopulation()
        history.archive = try reader.read(UInt8.self) == 1 ? try Archive(reading: &reader) : nil
        let stateSize = try reader.readCount(limit: data.count)
        let state = try reader.take(stateSize)
        let packedSize = try reader.readCount(limit: data.count)
        let decoder = JSONDecoder()
        decoder.userInfo[PackedBytes.userInfoKey] = PackedBytes(Data(try reader.take(packedSize)))
        do {
            search = try readSearch(Data(state), decoder)
        } catch {
            throw CheckpointError("\(source): the island's algorithm state does not decode (\(error))")
        }
        scratch = Self.scratch(population, search)
        guard reader.isAtEnd else { throw CheckpointError("\(source): unexpected bytes after the island") }
    }
}
