import Kernels
import Networks
import Testing

/// Gradients of `loss = Σ c · outputs` (c random) from `Network.backward`, against central finite
/// differences of the float64 `ReferenceNetwork` at the same float32 parameters and inputs.
///
/// Float64 differences with h = 1e-5 are exact to ~1e-9 (truncation h², rounding 1e-16/h), so the
/// gap is the float32 rounding of the analytic pass: ~1e-6 relative per layer for these sizes; the
/// tolerance 2e-4·max(1, |g|) leaves a margin of ~30× yet catches any wrong term (≥1e-2 here).
@Suite struct NetworkBackwardTests {
    static let specs = [
        // linear with and without bias, every element-wise activation, softmax
        "input: [4]\nlayers: [{linear: 5}, relu, {linear: {out: 5, bias: false}}, tanh, {linear: 4}, sigmoid, {linear: 4}, gelu, {linear: 3}, softmax]",
        // log_softmax after a bias-free output layer
        "input: [3]\nlayers: [{linear: 6}, gelu, {linear: {out: 4, bias: false}}, log_softmax]",
        // conv2d with stride 2 and padding 1, then stride 1 without padding, flatten
        "input: [2, 5, 4]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, stride: 2, padding: 1}}, tanh, {conv2d: {out_channels: 2, kernel: 2}}, flatten, {linear: 3}, log_softmax]",
        // flatten and an activation before the first parametric layer (input gradient passes them)
        "input: [1, 3, 3]\nlayers: [flatten, sigmoid, {linear: 2}, relu, {linear: 2}]",
        // conv, relu, maxpool2d 2×2 on an odd-sized map (the last row is dropped), flatten, linear
        "input: [2, 6, 5]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, padding: 1}}, relu, {maxpool2d: 2}, flatten, {linear: 3}]",
        // a pool on the inputs (input gradient through it), overlapping pools, a pool last
        "input: [1, 5, 5]\nlayers: [{maxpool2d: {kernel_size: 3, stride: 1}}, {conv2d: {out_channels: 2, kernel: 2}}, tanh, {maxpool2d: {kernel_size: 2, stride: 1}}]",
    ]

    @Test(arguments: specs)
    func gradientsMatchFiniteDifferences(specText: String) throws {
        let spec = try NetworkSpec.parse(specText)
        let network = try Network(spec: spec)
        let reference = try ReferenceNetwork(spec: spec)
        let (n, inSize, outSize, batch) = (network.parameterCount, network.inputSize, network.outputSize, 3)
        var stream = RandomStream(seed: 7, purpose: "gradcheck")
        let genome = network.initializedGenome(stream: &stream).map { $0 * 2 }
        var inputs = [Float](repeating: 0, count: batch * inSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        var weights = [Float](repeating: 0, count: batch * outSize)
        weights.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }

        // Backward adds: start from 1 and subtract it afterwards.
        var parameterGradient = [Float](repeating: 1, count: n)
        var inputGradient = [Float](repeating: 1, count: batch * inSize)
        var outputs = [Float](repeating: 0, count: batch * outSize)
        genome.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                outputs.withUnsafeMutableBufferPointer {
                    network.forwardRecording(genome: g, inputs: x, batchSize: batch, outputs: $0)
                }
            }
            weights.withUnsafeBufferPointer { dout in
                parameterGradient.withUnsafeMutableBufferPointer { dg in
                    inputGradient.withUnsafeMutableBufferPointer { dx in
                        network.backward(genome: g, outputGradient: dout, parameterGradient: dg, inputGradient: dx)
                    }
                }
            }
        }

        let genome64 = genome.map(Double.init)
        let inputs64 = inputs.map(Double.init)
        func loss(_ g: [Double], _ x: [Double]) -> Double {
            var total = 0.0
            for b in 0..<batch {
                let y = reference.forward(genome: g, sample: Array(x[b * inSize..<(b + 1) * inSize]))
                for o in 0..<outSize { total += Double(weights[b * outSize + o]) * y[o] }
            }
            return total
        }
        let h = 1e-5
        func check(_ analytic: Float, _ numeric: Double, _ what: String) {
            #expect(
                abs(Double(analytic) - 1 - numeric) <= 2e-4 * max(1, abs(numeric)),
                "\(what): \(Double(analytic) - 1) vs \(numeric)")
        }
        for k in 0..<n {
            var plus = genome64
            var minus = genome64
            plus[k] += h
            minus[k] -= h
            check(parameterGradient[k], (loss(plus, inputs64) - loss(minus, inputs64)) / (2 * h), "parameter \(k)")
        }
        for k in 0..<(batch * inSize) {
            var plus = inputs64
            var minus = inputs64
            plus[k] += h
            minus[k] -= h
            check(inputGradient[k], (loss(genome64, plus) - loss(genome64, minus)) / (2 * h), "input \(k)")
        }
        // The analytic gradient is not trivially small: the check above had something to compare.
        #expect(parameterGradient.contains { abs($0 - 1) > 1e-2 })
    }

    @Test func backwardWithoutInputGradientGivesTheSameParameterGradient() throws {
        let network = try Network(spec: try NetworkSpec.parse(Self.specs[2]))
        var stream = RandomStream(seed: 3, purpose: "gradcheck")
        let genome = network.initializedGenome(stream: &stream)
        let batch = 70  // several samples per im2col chunk boundary are not needed: one chunk, many rows
        var inputs = [Float](repeating: 0, count: batch * network.inputSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        var dout = [Float](repeating: 0, count: batch * network.outputSize)
        dout.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        var outputs = [Float](repeating: 0, count: batch * network.outputSize)
        var withInputs = [Float](repeating: 0, count: network.parameterCount)
        var withoutInputs = withInputs
        var inputGradient = [Float](repeating: 0, count: inputs.count)
        genome.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                outputs.withUnsafeMutableBufferPointer {
                    network.forwardRecording(genome: g, inputs: x, batchSize: batch, outputs: $0)
                }
            }
            dout.withUnsafeBufferPointer { d in
                withInputs.withUnsafeMutableBufferPointer { dg in
                    inputGradient.withUnsafeMutableBufferPointer { dx in
                        network.backward(genome: g, outputGradient: d, parameterGradient: dg, inputGradient: dx)
                    }
                }
                withoutInputs.withUnsafeMutableBufferPointer {
                    network.backward(genome: g, outputGradient: d, parameterGradient: $0, inputGradient: nil)
                }
            }
        }
        #expect(withInputs == withoutInputs)
        #expect(inputGradient.contains { $0 != 0 })
    }
}
