import Foundation
import Kernels
import Networks
import Testing

@Suite struct SafeTensorsTests {
    /// The bytes of a file with this header text and data.
    private func file(_ header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: (headerLength ?? UInt64(header.utf8.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: data)
        return bytes
    }

    private func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    @Test func readsExactlyTheNumbersPythonWrote() throws {
        let expected = try Fixture.json("mixed_dtypes.json")
        let file = try SafeTensors.read(path: Fixture.url("mixed_dtypes.safetensors").path)
        #expect(file.metadata == expected["metadata"] as? [String: String])
        let tensors = try #require(expected["tensors"] as? [String: [String: Any]])
        #expect(Set(file.tensors.map(\.name)) == Set(tensors.keys))
        for (name, info) in tensors {
            let tensor = try #require(file[name])
            #expect(tensor.dtype.rawValue == info["dtype"] as? String, "\(name)")
            #expect(tensor.shape == (info["shape"] as! [NSNumber]).map(\.intValue), "\(name)")
            let values = try Fixture.doubles(info["values"]).map { Float($0) }
            // Bit-for-bit, so −0.0 and the F16 subnormal count too.
            #expect(
                tensor.values.map(\.bitPattern) == values.map(\.bitPattern), "\(name): \(tensor.values) vs \(values)")
        }
        #expect(file["half"]!.values.contains { $0 == 0 && $0.sign == .minus })
        #expect(file["scalar"]!.shape == [] && file["scalar"]!.values == [3.25])
        #expect(file["empty"]!.values.isEmpty)
    }

    /// Python's `safetensors.numpy.save({"a": np.array([1, -2], np.float32)})` gives these 72 bytes.
    @Test func writesTheReferenceByteLayout() throws {
        let data = try SafeTensors(tensors: [.init(name: "a", shape: [2], values: [1, -2])]).encoded()
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(header.utf8.count == 54)
        #expect(data == file(header + "  ", data: floatBytes([1, -2])))
    }

    @Test func genomeRoundTripsWithMetadataAndAlignment() throws {
        let network = try Network(
            spec: try NetworkSpec.parse(
                "input: [2, 4, 4]\nlayers: [{conv2d: {out_channels: 3, kernel: 3}}, flatten, {linear: {out: 3, bias: false}}]"
            ))
        var stream = RandomStream(seed: 2, purpose: "st")
        let genome = network.initializedGenome(stream: &stream)
        let directory = try TemporaryDirectory()
        let path = directory.path("net.safetensors")
        try SafeTensors(genome: genome, layout: network.layout, metadata: ["format": "pt", "quote": "a \"b\" / c"])
            .write(path: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        let read = try SafeTensors.read(path: path)
        #expect(read.metadata == ["format": "pt", "quote": "a \"b\" / c"])
        #expect(read.tensors.map(\.name) == ["0.weight", "0.bias", "2.weight"])
        #expect(read.tensors.map(\.shape) == [[3, 2, 3, 3], [3], [3, 12]])
        #expect(try read.genome(for: network.layout) == genome)
        // A flat genome under any single name is accepted too.
        #expect(
            try SafeTensors(tensors: [.init(name: "genome", shape: [genome.count], values: genome)]).genome(
                for: network.layout) == genome)
    }

    @Test func convertsHalfPrecisionSpecialValues() throws {
        let words: [UInt16] = [0x7C00, 0xFC00, 0x0001, 0x03FF, 0x3C00, 0xC000, 0x7BFF, 0x7E00]
        let data = words.flatMap { word in withUnsafeBytes(of: word.littleEndian) { Array($0) } }
        let header = #"{"h":{"dtype":"F16","shape":[8],"data_offsets":[0,16]}}"#
        let values = try SafeTensors.decode(file(header, data: data))["h"]!.values
        #expect(Array(values.prefix(7)) == [.infinity, -.infinity, 0x1p-24, 1023 * 0x1p-24, 1, -2, 65504])
        #expect(values[7].isNaN)
    }

    @Test(
        arguments: [
            ("{}", 100, SafeTensorsError.Kind.headerLength, "past the end of the file"),
            (#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]"#, nil, .invalidJSON, "not valid JSON"),
            (#"["a"]"#, nil, .invalidJSON, "does not start with '{'"),
            (
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                nil, .invalidOffsets, "'b' at data_offsets [4, 8] overlaps tensor 'a'"
            ),
            (
                #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, nil, .invalidOffsets,
                "'a' has data_offsets [0, 16] past the end of the data (8 bytes)"
            ),
            (
                #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, nil, .invalidOffsets,
                "bytes 0..<4 before tensor 'a' belong to no tensor"
            ),
            (
                #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, nil, .invalidOffsets,
                "8 bytes but the tensors cover only 4"
            ),
            (
                #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#, nil, .sizeMismatch,
                "'a' is F64 with shape [2] (2 values × 8 bytes) but its data_offsets span 8 bytes"
            ),
            (#"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#, nil, .unsupportedDType, "'a' has dtype I32"),
            (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, nil, .invalidHeader, "'a' has no 'shape'"),
            (
                #"{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, nil, .invalidHeader,
                "'n' is not a string"
            ),
        ] as [(String, UInt64?, SafeTensorsError.Kind, String)])
    func rejectsMalformedFiles(header: String, headerLength: UInt64?, kind: SafeTensorsError.Kind, message: String)
        throws
    {
        let bytes = file(header, data: floatBytes([1, 2]), headerLength: headerLength)
        let error = try #require(throws: SafeTensorsError.self) { try SafeTensors.decode(bytes) }
        #expect(error.kind == kind)
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func rejectsShortFilesAndNamesTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("short.safetensors")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: SafeTensorsError.self) { try SafeTensors.read(path: path) }
        #expect(error.kind == .headerLength && error.description.contains(path))
    }

    @Test func rejectsTensorsThatDoNotMatchTheSpec() throws {
        let layout = try ParameterLayout(spec: .mlp([3, 2]))
        let weight = SafeTensors.Tensor(name: "0.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let cases: [([SafeTensors.Tensor], String)] = [
            ([weight], "'0.bias' with shape [2] is missing"),
            (
                [weight, .init(name: "0.bias", shape: [1, 2], values: [0, 0])],
                "'0.bias' has shape [1, 2], the network spec needs [2]"
            ),
            (
                [
                    weight, .init(name: "0.bias", shape: [2], values: [0, 0]),
                    .init(name: "2.weight", shape: [1], values: [0]),
                ], "'2.weight' is not a parameter"
            ),
            (
                [.init(name: "genome", shape: [7], values: [Float](repeating: 0, count: 7))],
                "the one flat tensor 'genome' has 7 values, the network has 8 parameters"
            ),
            (
                [.init(name: "genome", shape: [2, 4], values: [Float](repeating: 0, count: 8))],
                "'0.weight' with shape [2, 3] is missing"
            ),
        ]
        for (tensors, message) in cases {
            let error = try #require(throws: SafeTensorsError.self) {
                try SafeTensors(tensors: tensors).genome(for: layout)
            }
            #expect(error.kind == .layoutMismatch && error.message.contains(message), "\(error.message)")
        }
    }
}
