import Networks
import Testing

@Suite struct ParameterLayoutTests {
    @Test func mlpNamesShapesAndOffsetsFollowPyTorch() throws {
        let layout = try ParameterLayout(spec: .mlp([64, 32, 10]))
        #expect(layout.tensors.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(layout.tensors.map(\.shape) == [[32, 64], [32], [10, 32], [10]])
        #expect(layout.tensors.map(\.offset) == [0, 2048, 2080, 2400])
        #expect(layout.tensors.map(\.layerIndex) == [0, 0, 2, 2])
        #expect(layout.tensors.map(\.isBias) == [false, true, false, true])
        #expect(layout.parameterCount == 2410)
        #expect(
            try ParameterLayout(spec: .mlp([64, 512, 512, 10])).parameterCount == 64 * 512 + 512 + 512 * 512 + 512
                + 5120 + 10)
    }

    @Test func convNetAndBiasFreeLayers() throws {
        let spec = try NetworkSpec.parse(
            """
            input: [3, 8, 8]
            layers:
              - conv2d: {out_channels: 4, kernel: 3, stride: 2, padding: 1}
              - relu
              - flatten
              - linear: {out: 5, bias: false}
            """)
        let layout = try ParameterLayout(spec: spec)
        #expect(layout.tensors.map(\.name) == ["0.weight", "0.bias", "3.weight"])
        #expect(layout.tensors.map(\.shape) == [[4, 3, 3, 3], [4], [5, 64]])
        #expect(layout.parameterCount == 108 + 4 + 320)
    }

    @Test func genomeAndNamedTensorsRoundTrip() throws {
        let layout = try ParameterLayout(spec: .mlp([3, 2, 2]))
        let genome = (0..<layout.parameterCount).map { Float($0) * 0.5 }
        let tensors = layout.tensors(of: genome)
        #expect(tensors.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(tensors[1].values == [3, 3.5])
        #expect(tensors[2].shape == [2, 2])
        var named: [String: (shape: [Int], values: [Float])] = [:]
        for tensor in tensors { named[tensor.name] = (tensor.shape, tensor.values) }
        #expect(try layout.genome(from: named) == genome)
    }

    @Test func mismatchedTensorsAreNamed() throws {
        let layout = try ParameterLayout(spec: .mlp([3, 2]))
        let good: [String: (shape: [Int], values: [Float])] = [
            "0.weight": ([2, 3], [Float](repeating: 1, count: 6)), "0.bias": ([2], [0, 0]),
        ]
        var missing = good
        missing["0.bias"] = nil
        var transposed = good
        transposed["0.weight"] = ([3, 2], [Float](repeating: 1, count: 6))
        var extra = good
        extra["1.weight"] = ([1], [0])
        for (named, expected) in [
            (missing, "'0.bias'"), (transposed, "'0.weight' has shape [3, 2]"),
            (extra, "'1.weight' is not a parameter"),
        ] {
            let error = try #require(throws: NetworkSpecError.self) { try layout.genome(from: named) }
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}
