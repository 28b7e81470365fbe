import Evolution
import Foundation

/// Little-endian binary writer for checkpoints and migration messages.
struct ByteWriter {
    /// The bytes written so far (a `Data`, so a checkpoint file is handed on without a copy).
    private(set) var bytes = Data()

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: Float) { append(value.bitPattern) }
    mutating func append(_ value: Double) { append(value.bitPattern) }

    /// A count, then the values' little-endian bit patterns (one copy of the array's bytes on a
    /// little-endian machine).
    mutating func append(_ values: [Float]) {
        append(UInt64(values.count))
        #if _endian(little)
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
            for v in values { append(v.bitPattern) }
        #endif
    }

    /// Room for `count` more bytes, so a large file is built without regrowing.
    mutating func reserve(_ count: Int) { bytes.reserveCapacity(bytes.count + count) }

    mutating func append(_ values: [UInt64]) {
        append(UInt64(values.count))
        for v in values { append(v) }
    }

    /// A count, then the bytes.
    mutating func append(bytes data: Data) {
        append(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    mutating func append(magic: String) { bytes.append(contentsOf: Array(magic.utf8)) }

    /// Population: count, dimension, genes, fitness, ids, step sizes.
    mutating func append(_ population: Population) {
        append(UInt64(population.count))
        append(UInt64(population.dimension))
        append(population.genes)
        append(population.fitness)
        append(population.ids)
        append(population.stepSizes)
    }
}

/// Reads what `ByteWriter` wrote; every read checks the bytes left, so a truncated file is an error.
struct ByteReader {
    private let bytes: [UInt8]
    /// Where the next read starts.
    private(set) var offset = 0
    let source: String

    init(_ bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    init(_ data: Data, source: String) { self.init([UInt8](data), source: source) }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else {
            throw CheckpointError(
                "\(source): needs \(n) more bytes at offset \(offset), has \(bytes.count - offset) (truncated?)")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        var value: T = 0
        let slice = try take(MemoryLayout<T>.size)
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: slice) }
        return T(littleEndian: value)
    }

    mutating func readFloat() throws -> Float { Float(bitPattern: try read(UInt32.self)) }
    mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }

    /// A `UInt64` that must fit in an `Int` (an index or a counter).
    mutating func readInt() throws -> Int {
        let start = offset
        let n = try read(UInt64.self)
        guard let value = Int(exactly: n) else {
            throw CheckpointError("\(source): the value \(n) at offset \(start) exceeds \(Int.max)")
        }
        return value
    }

    mutating func readCount(limit: Int) throws -> Int {
        let n = try read(UInt64.self)
        guard n <= UInt64(limit) else {
            throw CheckpointError("\(source): a count of \(n) exceeds the \(limit) the file can hold")
        }
        return Int(n)
    }

    mutating func readFloats() throws -> [Float] {
        let n = try readCount(limit: (bytes.count - offset) / 4)
        let slice = try take(4 * n)
        return slice.withUnsafeBytes { raw in
            (0..<n).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    mutating func readUInt64s() throws -> [UInt64] {
        let n = try readCount(limit: (bytes.count - offset) / 8)
        let slice = try take(8 * n)
        return slice.withUnsafeBytes { raw in
            (0..<n).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
        }
    }

    mutating func expect(magic: String) throws {
        let found = try take(magic.utf8.count)
        guard Array(found) == Array(magic.utf8) else {
            throw CheckpointError("\(source): not an Atoll \(magic) file (wrong magic bytes)")
        }
    }

    /// A population; its arrays are read and checked against count × dimension before anything
    /// of that size is allocated.
    mutating func readPopulation() throws -> Population {
        let start = offset
        let count = try readCount(limit: 1 << 31)
        let dimension = try readCount(limit: 1 << 40)
        guard dimension > 0 else { throw CheckpointError("\(source): a population with 0 genes at offset \(start)") }
        let genes = try readFloats()
        let fitness = try readFloats()
        let ids = try readUInt64s()
        let stepSizes = try readFloats()
        guard count.multipliedReportingOverflow(by: dimension) == (genes.count, false), fitness.count == count,
            ids.count == count, stepSizes.count == count
        else {
            throw CheckpointError(
                "\(source): the population arrays at offset \(start) do not match \(count) × \(dimension)")
        }
        var population = Population(count: count, dimension: dimension)
        population.genes = genes
        population.fitness = fitness
        population.ids = ids
        population.stepSizes = stepSizes
        return population
    }
}
