import Foundation
import Kernels
import Testing
import VectorKernels

@testable import Networks

/// The direct convolution against the im2col + GEMM path and against float64 references.
///
/// Tolerance: both paths sum the same float32 products in different orders (the direct kernel
/// over (c, i, j) with fused multiply-adds, OpenBLAS in its own blocking), so outputs may differ by
/// a few float32 roundings of the sum of |products|. With PyTorch-initialised weights and
/// Gaussian inputs the largest difference seen over these specs is 3e-7 · max(1, |y|) (outputs)
/// and 1.1e-7 (gradients); the bounds asserted are 4e-6 · max(1, |y|) for outputs and 1e-5 for
/// gradients (a max-pool or relu decision flipped by rounding would exceed both). Against the
/// float64 references the bound is the one NetworkForwardTests uses, 2e-5 · max(1, |y|).
@Suite struct DirectConvolutionTests {
    /// Specs with population and batch: every conv network NetworksTests uses, the two nets of
    /// `atoll bench evaluate` and the edge cases of forward_direct_conv.json.
    static let specs: [(String, Int, Int)] = [
        // NetworkBackwardTests' and ConvolutionChunkTests' conv nets (stride 2 layers stay im2col)
        (
            "input: [2, 5, 4]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, stride: 2, padding: 1}}, tanh, {conv2d: {out_channels: 2, kernel: 2}}, flatten, {linear: 3}, log_softmax]",
            3, 5
        ),
        (
            "input: [2, 6, 5]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, padding: 1}}, relu, {maxpool2d: 2}, flatten, {linear: 3}]",
            3, 5
        ),
        (
            "input: [2, 6, 5]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, stride: 2, padding: 1}}, relu, {conv2d: {out_channels: 2, kernel: 2}}, flatten, {linear: 3}]",
            4, 9
        ),
        // NetworkForwardTests' conv nets
        (
            "input: [2, 5, 4]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, stride: 2, padding: 1}}, relu, flatten, {linear: 4}, log_softmax]",
            4, 11
        ),
        ("input: [1, 4, 4]\nlayers: [{conv2d: {out_channels: 2, kernel: 3, padding: 1}}, tanh]", 3, 6),
        (
            "input: [2, 7, 6]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, padding: 1}}, relu, {maxpool2d: 2}, {conv2d: {out_channels: 4, kernel: 2}}, relu, {maxpool2d: {kernel_size: 2, stride: 1}}, flatten, {linear: 5}]",
            5, 300
        ),
        (
            "input: [1, 5, 5]\nlayers: [{maxpool2d: {kernel_size: 3, stride: 1}}, {conv2d: {out_channels: 2, kernel: 2}}, tanh, {maxpool2d: {kernel_size: 2, stride: 1}}]",
            3, 4
        ),
        (
            "input: [1, 6, 6]\nlayers: [{conv2d: {out_channels: 2, kernel: 3, padding: 1}}, {maxpool2d: 2}, {conv2d: {out_channels: 3, kernel: 2}}, gelu, {maxpool2d: 2}, flatten, {linear: 3}]",
            4, 5
        ),
        (
            "input: [2, 6, 5]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, stride: 1, padding: 1}}, relu, {conv2d: {out_channels: 4, kernel: 3, stride: 2, padding: 1}}, tanh, flatten, {linear: 5}, softmax]",
            3, 7
        ),
        (
            "input: [2, 9, 21]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, padding: 1}}, relu, {maxpool2d: 2}, {conv2d: {out_channels: 5, kernel: 5, padding: 2}}, sigmoid, {maxpool2d: 2}, {conv2d: {out_channels: 2, kernel: 4, padding: 1}}, tanh, flatten, {linear: 3}]",
            4, 9
        ),
        (
            "input: [1, 28, 28]\nlayers: [{conv2d: {out_channels: 8, kernel: 3}}, relu, {maxpool2d: 2}, {conv2d: {out_channels: 16, kernel: 3}}, relu, {maxpool2d: 2}, flatten, {linear: 32}, relu, {linear: 10}]",
            3, 20
        ),
        (
            "input: [1, 28, 28]\nlayers: [{conv2d: {out_channels: 8, kernel: 5, padding: 2}}, relu, {maxpool2d: 2}, {conv2d: {out_channels: 16, kernel: 5, padding: 2}}, relu, {maxpool2d: 2}, flatten, {linear: 10}]",
            3, 20
        ),
    ]

    private func randomGenomes(_ network: Network, count: Int, stream: inout RandomStream) -> [Float] {
        var genomes: [Float] = []
        for _ in 0..<count { genomes += network.initializedGenome(stream: &stream) }
        return genomes
    }

    /// Each spec under the plan's own layout and under each layout forced.
    static let specsAndLayouts: [(String, Int, Int, DirectConvolution.Plan.Layout?)] = specs.flatMap { spec in
        [nil, .rows, .flat].map { (spec.0, spec.1, spec.2, $0) }
    }

    @Test(arguments: specsAndLayouts)
    func directMatchesIm2colOnSharedAndOwnInputs(
        specText: String, population: Int, batch: Int, layout: DirectConvolution.Plan.Layout?
    ) throws {
        let direct = try Network(spec: try NetworkSpec.parse(specText))
        let gemm = try Network(spec: try NetworkSpec.parse(specText))
        direct.convolutionAlgorithm = .direct
        direct.directConvolutionLayout = layout
        gemm.convolutionAlgorithm = .im2col
        let strideOne = direct.spec.layers.contains { if case .conv2d(_, _, 1, _) = $0 { true } else { false } }
        #expect(direct.hasDirectConvolution == (DirectConvolution.isSupported && strideOne))
        #expect(!gemm.hasDirectConvolution)
        var stream = RandomStream(seed: 21, purpose: "direct-conv")
        let genomes = randomGenomes(direct, count: population, stream: &stream)
        var inputs = [Float](repeating: 0, count: population * batch * direct.inputSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        for shared in [true, false] {
            let a = direct.forward(
                genomes: genomes, populationSize: population, inputs: inputs, batchSize: batch, sharedInputs: shared)
            let b = gemm.forward(
                genomes: genomes, populationSize: population, inputs: inputs, batchSize: batch, sharedInputs: shared)
            #expect(a.count == b.count)
            let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            #expect(worst <= 4e-6, "shared \(shared): largest difference \(worst)")
            #expect(a.contains { $0 != 0 })
        }
    }

    /// Same bits whatever the grouping: each genome alone, and each genome's own inputs, give
    /// exactly the population's outputs. Only for specs whose convolutions all run direct: a
    /// stride-2 first layer runs as one GEMM for the group, whose last bits OpenBLAS may change
    /// with the group's size (as for a first linear layer).
    @Test(arguments: specs.filter { !$0.0.contains("stride: 2") })
    func directOutputsDoNotDependOnGrouping(specText: String, population: Int, batch: Int) throws {
        let network = try Network(spec: try NetworkSpec.parse(specText))
        network.convolutionAlgorithm = .direct
        var stream = RandomStream(seed: 22, purpose: "direct-conv-bits")
        let genomes = randomGenomes(network, count: population, stream: &stream)
        var inputs = [Float](repeating: 0, count: batch * network.inputSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        let all = network.forward(
            genomes: genomes, populationSize: population, inputs: inputs, batchSize: batch, sharedInputs: true)
        let repeated = Array([[Float]](repeating: inputs, count: population).joined())
        let own = network.forward(
            genomes: genomes, populationSize: population, inputs: repeated, batchSize: batch, sharedInputs: false)
        #expect(own == all)
        let (n, out) = (network.parameterCount, batch * network.outputSize)
        for p in 0..<population {
            let alone = network.forward(
                genomes: Array(genomes[p * n..<(p + 1) * n]), populationSize: 1, inputs: inputs, batchSize: batch,
                sharedInputs: true)
            #expect(alone == Array(all[p * out..<(p + 1) * out]), "genome \(p)")
        }
    }

    /// forward_evojax_cnn.json (EvoJAX's MNIST ConvNet) and forward_direct_conv.json (edge shapes)
    /// from scripts/fixtures/direct_convolution_fixture.py, and the older conv fixtures, under each
    /// algorithm; the recording pass gives the population pass's bits.
    @Test(arguments: ["forward_evojax_cnn.json", "forward_direct_conv.json", "forward_conv.json", "forward_pool.json"])
    func everyAlgorithmMatchesTheNumpyReference(name: String) throws {
        let fixture = try Fixture.json(name)
        let specJSON = try JSONSerialization.data(withJSONObject: try #require(fixture["spec"]))
        let spec = try NetworkSpec.parse(String(decoding: specJSON, as: UTF8.self))
        let genome = try Fixture.floats(fixture["genome"])
        let inputs = try Fixture.floats(fixture["inputs"])
        let expected = try Fixture.doubles(fixture["outputs"])
        let batch = try #require(fixture["batch"] as? Int)
        let settings: [(ConvolutionAlgorithm, DirectConvolution.Plan.Layout?)] = [
            (.automatic, nil), (.im2col, nil), (.direct, .rows), (.direct, .flat),
        ]
        for (algorithm, layout) in settings {
            let network = try Network(spec: spec)
            network.convolutionAlgorithm = algorithm
            network.directConvolutionLayout = layout
            #expect(genome.count == network.parameterCount)
            #expect(expected.count == batch * network.outputSize)
            let outputs = network.forward(
                genomes: genome, populationSize: 1, inputs: inputs, batchSize: batch, sharedInputs: true)
            for (got, want) in zip(outputs, expected) {
                #expect(
                    abs(Double(got) - want) <= 2e-5 * max(1, abs(want)),
                    "\(algorithm) \(String(describing: layout)): \(got) vs \(want)")
            }
            var recorded = [Float](repeating: 0, count: expected.count)
            genome.withUnsafeBufferPointer { g in
                inputs.withUnsafeBufferPointer { x in
                    recorded.withUnsafeMutableBufferPointer {
                        network.forwardRecording(genome: g, inputs: x, batchSize: batch, outputs: $0)
                    }
                }
            }
            #expect(recorded == outputs, "\(algorithm) \(String(describing: layout))")
        }
    }

    /// configs/networks/evojax-mnist-cnn.yaml is the fixture's network, EvoJAX's 11,274 weights.
    @Test func shippedEvoJAXSpecIsTheFixturesNetwork() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../configs/networks/evojax-mnist-cnn.yaml").standardized.path
        let spec = try NetworkSpec.load(path: path)
        let fixture = try Fixture.json("forward_evojax_cnn.json")
        let specJSON = try JSONSerialization.data(withJSONObject: try #require(fixture["spec"]))
        #expect(spec == (try NetworkSpec.parse(String(decoding: specJSON, as: UTF8.self))))
        let network = try Network(spec: spec)
        #expect(network.parameterCount == 11_274)
        #expect(
            network.shapes.map { $0 } == [
                [1, 28, 28], [8, 28, 28], [8, 28, 28], [8, 14, 14], [16, 14, 14], [16, 14, 14], [16, 7, 7], [784], [10],
            ])
        // Under the automatic choice both convolutions run direct (where the CPU allows).
        #expect(
            spec.layers.indices.filter { network.usesDirectConvolution(layer: $0) }
                == (DirectConvolution.isSupported ? [0, 3] : []))
    }

    /// A NaN in a pooling window gives NaN (as PyTorch's max-pool), and relu maps it to 0, in both
    /// paths and both layouts of the direct one.
    @Test func nanInputsPropagateAsInIm2col() throws {
        let cases = ["", "relu, "].flatMap { activation in
            [DirectConvolution.Plan.Layout.rows, .flat].map { (activation, $0) }
        }
        for (activation, layout) in cases {
            let text =
                "input: [1, 6, 6]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, padding: 1}}, \(activation){maxpool2d: 2}]"
            let direct = try Network(spec: try NetworkSpec.parse(text))
            let gemm = try Network(spec: try NetworkSpec.parse(text))
            direct.convolutionAlgorithm = .direct
            direct.directConvolutionLayout = layout
            gemm.convolutionAlgorithm = .im2col
            var stream = RandomStream(seed: 23, purpose: "nan")
            let genome = direct.initializedGenome(stream: &stream)
            var inputs = [Float](repeating: 0, count: 2 * 36)
            inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
            inputs[36 + 14] = .nan
            let a = direct.forward(genomes: genome, populationSize: 1, inputs: inputs, batchSize: 2, sharedInputs: true)
            let b = gemm.forward(genomes: genome, populationSize: 1, inputs: inputs, batchSize: 2, sharedInputs: true)
            #expect(a.map(\.isNaN) == b.map(\.isNaN))
            #expect(a.contains { $0.isNaN } == activation.isEmpty)
            #expect(a.prefix(27).allSatisfy { !$0.isNaN })
            #expect(zip(a, b).allSatisfy { $0.isNaN || abs($0 - $1) <= 4e-6 * max(1, abs($1)) })
        }
    }

    /// The backward pass after a recording forward pass that ran the direct kernel gives the
    /// im2col path's gradients.
    @Test func gradientsAfterADirectForwardMatch() throws {
        let text = Self.specs[5].0
        let direct = try Network(spec: try NetworkSpec.parse(text))
        let gemm = try Network(spec: try NetworkSpec.parse(text))
        direct.convolutionAlgorithm = .direct
        gemm.convolutionAlgorithm = .im2col
        var stream = RandomStream(seed: 24, purpose: "gradients")
        let genome = direct.initializedGenome(stream: &stream)
        let B = 5
        var inputs = [Float](repeating: 0, count: B * direct.inputSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        var dout = [Float](repeating: 0, count: B * direct.outputSize)
        dout.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        func gradients(_ network: Network) -> [Float] {
            var outputs = [Float](repeating: 0, count: B * network.outputSize)
            var gradient = [Float](repeating: 0, count: network.parameterCount + B * network.inputSize)
            genome.withUnsafeBufferPointer { g in
                inputs.withUnsafeBufferPointer { x in
                    outputs.withUnsafeMutableBufferPointer {
                        network.forwardRecording(genome: g, inputs: x, batchSize: B, outputs: $0)
                    }
                }
                dout.withUnsafeBufferPointer { d in
                    gradient.withUnsafeMutableBufferPointer { all in
                        network.backward(
                            genome: g, outputGradient: d,
                            parameterGradient: UnsafeMutableBufferPointer(rebasing: all[0..<network.parameterCount]),
                            inputGradient: UnsafeMutableBufferPointer(rebasing: all[network.parameterCount...]))
                    }
                }
            }
            return gradient
        }
        let a = gradients(direct)
        let b = gradients(gemm)
        #expect(a.contains { $0 != 0 })
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(worst <= 1e-5, "largest difference \(worst)")
    }
}
