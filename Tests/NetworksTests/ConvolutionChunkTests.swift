import Kernels
import Testing

@testable import Networks

/// Convolutions unfold as many samples as fit their scratch budget; a tiny budget (one or two
/// samples per chunk) must give the same outputs and gradients as one chunk for the whole batch.
@Suite struct ConvolutionChunkTests {
    let spec =
        "input: [2, 6, 5]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, stride: 2, padding: 1}}, relu, {conv2d: {out_channels: 2, kernel: 2}}, flatten, {linear: 3}]"

    @Test func smallChunksGiveTheSameForwardAndBackward() throws {
        let whole = try Network(spec: try NetworkSpec.parse(spec))
        let chunked = try Network(spec: try NetworkSpec.parse(spec))
        chunked.columnScratchFloats = 300  // 27·9 = 243 floats of columns per sample: one sample per chunk
        #expect(chunked.convolutionChunk(layer: 0, rows: 9, stackedGenomes: 1) == 1)
        let (P, B) = (4, 9)
        var stream = RandomStream(seed: 9, purpose: "chunks")
        var genomes: [Float] = []
        for _ in 0..<P { genomes += whole.initializedGenome(stream: &stream) }
        var inputs = [Float](repeating: 0, count: P * B * whole.inputSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        for shared in [true, false] {
            let a = whole.forward(
                genomes: genomes, populationSize: P, inputs: inputs, batchSize: B, sharedInputs: shared)
            let b = chunked.forward(
                genomes: genomes, populationSize: P, inputs: inputs, batchSize: B, sharedInputs: shared)
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) }, "shared \(shared)")
        }

        let genome = Array(genomes.prefix(whole.parameterCount))
        var dout = [Float](repeating: 0, count: B * whole.outputSize)
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
        let a = gradients(whole)
        let b = gradients(chunked)
        #expect(a.contains { $0 != 0 })
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) })
    }
}
