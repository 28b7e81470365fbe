import Foundation
import Networks
import Testing

@Suite struct NetworkSpecTests {
    @Test func parsesEveryLayerFormFromYAML() throws {
        let spec = try NetworkSpec.parse(
            """
            input: [1, 8, 8]
            layers:
              - conv2d: {out_channels: 4, kernel: 3, padding: 1}
              - relu
              - conv2d: {out_channels: 2, kernel: 3, stride: 2}
              - gelu
              - flatten
              - linear: 16
              - tanh
              - linear: {out: 10, bias: false}
              - log_softmax
            """)
        #expect(spec.input == [1, 8, 8])
        #expect(
            spec.layers == [
                .conv2d(outChannels: 4, kernel: 3, stride: 1, padding: 1), .activation(.relu),
                .conv2d(outChannels: 2, kernel: 3, stride: 2, padding: 0), .activation(.gelu), .flatten,
                .linear(out: 16, bias: true), .activation(.tanh), .linear(out: 10, bias: false),
                .activation(.logSoftmax),
            ])
        #expect(
            try spec.shapes() == [
                [1, 8, 8], [4, 8, 8], [4, 8, 8], [2, 3, 3], [2, 3, 3], [18], [16], [16], [10], [10],
            ])
    }

    @Test func parsesMaxPool2dInPyTorchTerms() throws {
        let spec = try NetworkSpec.parse(
            """
            input: [1, 28, 28]
            layers:
              - conv2d: {out_channels: 4, kernel: 5}
              - maxpool2d: 2
              - maxpool2d: {kernel_size: 3, stride: 2}
              - maxpool2d: {kernel_size: 2}
              - flatten
            """)
        #expect(
            spec.layers.dropFirst().prefix(3) == [
                .maxPool2d(kernel: 2, stride: 2), .maxPool2d(kernel: 3, stride: 2), .maxPool2d(kernel: 2, stride: 2),
            ])
        // 28 − 5 + 1 = 24; ⌊(24 − 2)/2⌋ + 1 = 12; ⌊(12 − 3)/2⌋ + 1 = 5; ⌊(5 − 2)/2⌋ + 1 = 2 (floor mode).
        #expect(
            try spec.shapes().map { $0 } == [[1, 28, 28], [4, 24, 24], [4, 12, 12], [4, 5, 5], [4, 2, 2], [16]])
        #expect(try ParameterLayout(spec: spec).parameterCount == 4 * 25 + 4, "pooling has no parameters")
        let encoded = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        #expect(encoded.contains(#""kernel_size":3"#))
        #expect(try NetworkSpec.parse(encoded) == spec)
    }

    @Test func parsesJSONAndRoundTripsThroughEncoding() throws {
        let spec = try NetworkSpec.parse(
            #"{"input": [4], "layers": [{"linear": 16}, "sigmoid", {"linear": {"out": 2, "bias": false}}, "softmax"]}"#)
        #expect(
            spec
                == NetworkSpec(
                    input: [4],
                    layers: [
                        .linear(out: 16, bias: true), .activation(.sigmoid), .linear(out: 2, bias: false),
                        .activation(.softmax),
                    ]))
        let encoded = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        #expect(try NetworkSpec.parse(encoded) == spec)
    }

    @Test func shorthandBuildsAnMLP() throws {
        #expect(try NetworkSpec.parse("mlp:64-32-10") == NetworkSpec.mlp([64, 32, 10]))
        #expect(
            NetworkSpec.mlp([64, 32, 10]).layers == [
                .linear(out: 32, bias: true), .activation(.relu), .linear(out: 10, bias: true),
            ])
        let tanh = try NetworkSpec.parse("mlp:4-16-16-2:tanh")
        #expect(tanh.input == [4])
        #expect(
            tanh.layers == [
                .linear(out: 16, bias: true), .activation(.tanh), .linear(out: 16, bias: true), .activation(.tanh),
                .linear(out: 2, bias: true),
            ])
        #expect(try NetworkSpec.load(path: "mlp:3-2") == NetworkSpec.mlp([3, 2]))
    }

    @Test(arguments: [
        ("mlp:64", "at least two"),
        ("mlp:64-x-10", "at least two"),
        ("mlp:64-10:swish", "unknown activation 'swish'"),
        ("input: [4]\nlayers: [swish]", "unknown layer 'swish'"),
        ("input: [4]\nlayers: [{linear: 3, relu: 1}]", "exactly one key"),
        ("input: [4]\nlayers: [{linear: {out: 3, bais: false}}]", "unknown key 'bais'"),
        ("input: [4]\nlayers: [{conv2d: {out_channels: 3, kernel: 3}}]", "needs [channels, height, width]"),
        ("input: [1, 4, 4]\nlayers: [{linear: 3}]", "add flatten"),
        ("input: [1, 4, 4]\nlayers: [softmax]", "add flatten"),
        ("input: [1, 2, 2]\nlayers: [{conv2d: {out_channels: 3, kernel: 5}}]", "larger than the padded input"),
        ("input: [4]\nlayers: [{linear: 0}]", "out must be positive"),
        ("input: [4]\nlayers: [{maxpool2d: 2}]", "needs [channels, height, width]"),
        ("input: [1, 3, 3]\nlayers: [{maxpool2d: 4}]", "larger than the input"),
        ("input: [1, 3, 3]\nlayers: [{maxpool2d: {kernel_size: 2, padding: 1}}]", "unknown key 'padding'"),
        ("input: [1, 3, 3]\nlayers: [{maxpool2d: {kernel_size: 0}}]", "must be positive"),
        // Found by probing scripts/fuzz.sh's run-config fuzzer with a network spec given as text: the
        // size arithmetic of these shapes overflowed (a trap).
        (
            "input: [3037000500, 3037000500, 2]\nlayers: [flatten]",
            "layer 0 (flatten): shape [3037000500, 3037000500, 2] has more values"
        ),
        (
            "input: [1, 28, 28]\nlayers: [{conv2d: {out_channels: 1, kernel: 3, padding: 4611686018427387904}}]",
            "padding 4611686018427387904 of the input [1, 28, 28] is too large"
        ),
        ("input: [4]\nlayer: []", "unknown key 'layer'"),
        ("layers: []", "missing field 'input'"),
    ])
    func rejectsBadSpecsWithAMessage(text: String, expected: String) throws {
        let error = try #require(throws: NetworkSpecError.self) { try NetworkSpec.parse(text) }
        #expect(error.description.contains(expected), "\(error.description)")
    }

    @Test func loadNamesTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("net.yaml")
        try "input: [3]\nlayers: [{linear: 2}, swish]".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: NetworkSpecError.self) { try NetworkSpec.load(path: path) }
        #expect(error.description.contains(path) && error.description.contains("swish"))
        try "input: [3]\nlayers: [{linear: 2}, relu]".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            try NetworkSpec.load(path: path)
                == NetworkSpec(input: [3], layers: [.linear(out: 2, bias: true), .activation(.relu)]))
    }
}
