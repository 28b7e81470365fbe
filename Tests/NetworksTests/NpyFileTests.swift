import Foundation
import Networks
import Testing

@Suite struct NpyFileTests {
    @Test func readsWhatNumpyWroteAndWritesTheSameBytes() throws {
        let url = Fixture.url("forward_mlp_genome.npy")
        let genome = try Fixture.floats(try Fixture.json("forward_mlp.json")["genome"])
        #expect(try NpyFile.read(path: url.path) == genome)
        // numpy's np.save of a float32 vector is version 1.0, '<f4', 64-byte aligned: the same bytes.
        #expect(NpyFile.encode(genome) == (try Data(contentsOf: url)))
    }

    @Test func roundTripsAndAcceptsFloat64() throws {
        let directory = try TemporaryDirectory()
        let values: [Float] = [0, -1.5, .greatestFiniteMagnitude, 1e-30]
        try NpyFile.write(values, path: directory.path("a.npy"))
        #expect(try NpyFile.read(path: directory.path("a.npy")) == values)
        var f8 = Data(NpyFile.encode([]).prefix(0))
        let header = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }".utf8) + [UInt8(ascii: "\n")]
        f8.append(contentsOf: [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header)
        for value in [0.1, -2.0] { withUnsafeBytes(of: value.bitPattern.littleEndian) { f8.append(contentsOf: $0) } }
        #expect(try NpyFile.decode(f8) == [Float(0.1), -2])
    }

    @Test(arguments: [
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", "dtype '<i4' is not supported"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", "not one-dimensional"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", "needs 12 bytes of data, the file has 8"),
        ("{'descr': '<f4', 'shape': (2,), }", "lacks descr"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "shape (-1,) has a negative size"),
        // Found by scripts/fuzz.sh npy: the byte count of this shape overflowed (a trap).
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (00000006309187226862520996,), }",
            "needs more than 9223372036854775807 bytes"
        ),
    ])
    func rejectsOtherArrays(header: String, message: String) throws {
        var data = Data(
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count + 1), 0] + Array(header.utf8) + [10])
        data.append(contentsOf: [UInt8](repeating: 0, count: 8))
        let error = try #require(throws: NpyError.self) { try NpyFile.decode(data) }
        #expect(error.message.contains(message), "\(error.message)")
    }
}
