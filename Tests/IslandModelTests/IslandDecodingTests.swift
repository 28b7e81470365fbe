import Evolution
import Foundation
import Testing

@testable import IslandModel

/// `Island(reading:)` on damaged island files, inputs found by `scripts/fuzz.sh checkpoint`: each
/// is a `CheckpointError` naming the file and the offset, never a trap or a huge allocation.
@Suite("Island decoding")
struct IslandDecodingTests {
    static let source = "island-00000.bin"

    /// An island file up to its population: magic, version, index, counters, best fitness and an
    /// empty best genome (48 bytes).
    static func prefix(evaluations: UInt64 = 0) -> ByteWriter {
        var writer = ByteWriter()
        writer.append(magic: Island.magic)
        writer.append(Island.version)
        writer.append(UInt64(0))
        writer.append(evaluations)
        writer.append(UInt64(0))
        writer.append(Float(0))
        writer.append([Float]())
        return writer
    }

    static func decode(_ writer: ByteWriter) throws -> Island {
        try Island(reading: Data(writer.bytes), source: source, readSearch: RunConfig().readIslandSearch)
    }

    @Test("a counter above Int.max is an error naming its offset")
    func counterAboveIntMax() throws {
        let error = try #require(throws: CheckpointError.self) { try Self.decode(Self.prefix(evaluations: .max)) }
        #expect(error.description == "\(Self.source): the value \(UInt64.max) at offset 20 exceeds \(Int.max)")
    }

    @Test("a population header of 2³¹ × 2⁴⁰ genes with no genes behind it is an error, not an allocation")
    func populationLargerThanTheFile() throws {
        var writer = Self.prefix()
        writer.append(UInt64(1 << 31))
        writer.append(UInt64(1 << 40))
        writer.append([Float]())
        writer.append([Float]())
        writer.append([UInt64]())
        writer.append([Float]())
        let error = try #require(throws: CheckpointError.self) { try Self.decode(writer) }
        #expect(
            error.description
                == "\(Self.source): the population arrays at offset 48 do not match 2147483648 × 1099511627776")
    }

    @Test("an archive header of 2³¹ × 2⁴⁰ genes with no genes behind it is an error, not a trap")
    func archiveLargerThanTheFile() throws {
        var writer = Self.prefix()
        var population = Population(count: 1, dimension: 1)
        population.fitness = [0]
        writer.append(population)
        writer.append(UInt8(1))
        writer.append(UInt64(1 << 31))
        writer.append(UInt64(1 << 40))
        writer.append(UInt64(0))
        writer.append(UInt64(0))
        writer.append([Float]())
        writer.append([Float]())
        let error = try #require(throws: CheckpointError.self) { try Self.decode(writer) }
        #expect(
            error.description
                == "\(Self.source): the archive arrays at offset 117 do not match 2147483648 × 1099511627776")
    }
}
