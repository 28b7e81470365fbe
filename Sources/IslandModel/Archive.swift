import MetaLearning

/// The newest evaluated genomes of an island, in weight space, with their fitness: what the
/// meta-learner trains on. A ring buffer of `capacity` rows of `D` floats; the oldest row is
/// overwritten first.
public struct Archive: Sendable, Equatable {
    public let capacity: Int
    public let dimension: Int
    /// `[capacity × D]`, rows `0 ..< count` valid, in ring order from `next`.
    private(set) var genomes: [Float]
    private(set) var fitness: [Float]
    public private(set) var count = 0
    private(set) var next = 0

    public init(capacity: Int, dimension: Int) {
        self.capacity = capacity
        self.dimension = dimension
        genomes = [Float](repeating: 0, count: capacity * dimension)
        fitness = [Float](repeating: 0, count: capacity)
    }

    /// Adds `rows` genomes (`[rows × D]`, end to end) with their fitness; non-finite fitness is left out.
    public mutating func append(genomes values: UnsafeBufferPointer<Float>, fitness scores: [Float]) {
        let d = dimension
        for (r, f) in scores.enumerated() where f.isFinite {
            genomes.withUnsafeMutableBufferPointer { target in
                (target.baseAddress! + next * d).update(from: values.baseAddress! + r * d, count: d)
            }
            fitness[next] = f
            next = (next + 1) % capacity
            count = min(count + 1, capacity)
        }
    }

    /// Record `k` of `0 ..< count`, oldest first.
    public func record(_ k: Int) -> MetaRecord {
        let row = ringRow(k)
        return MetaRecord(genome: Array(genomes[row * dimension..<(row + 1) * dimension]), fitness: fitness[row])
    }

    /// The fitness of record `k` (without copying its genome).
    public func fitness(of k: Int) -> Float { fitness[ringRow(k)] }

    /// The buffer row of record `k` of `0 ..< count`, oldest first.
    private func ringRow(_ k: Int) -> Int {
        precondition((0..<count).contains(k), "archive record \(k) of \(count)")
        return ((count < capacity ? 0 : next) + k) % capacity
    }

    func encode(into writer: inout ByteWriter) {
        writer.append(UInt64(capacity))
        writer.append(UInt64(dimension))
        writer.append(UInt64(count))
        writer.append(UInt64(next))
        writer.append(genomes)
        writer.append(fitness)
    }

    /// Reads what `encode(into:)` wrote, checking the arrays against capacity × dimension.
    init(reading reader: inout ByteReader) throws {
        let start = reader.offset
        capacity = try reader.readCount(limit: 1 << 31)
        dimension = try reader.readCount(limit: 1 << 40)
        count = try reader.readCount(limit: capacity)
        next = try reader.readCount(limit: max(capacity - 1, 0))
        genomes = try reader.readFloats()
        fitness = try reader.readFloats()
        guard capacity.multipliedReportingOverflow(by: dimension) == (genomes.count, false), fitness.count == capacity
        else {
            throw CheckpointError(
                "\(reader.source): the archive arrays at offset \(start) do not match \(capacity) × \(dimension)")
        }
    }
}
