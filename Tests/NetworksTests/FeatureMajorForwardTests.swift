import Kernels
import Testing

@testable import Networks

/// `forwardFeatureMajor` (tile by tile, feature-major) against the sample-major `forward`.
@Suite struct FeatureMajorForwardTests {
    @Test(arguments: [
        // 10 genomes of 512 hidden units, tiles of 64 samples: groups of 8 and 2, tiles 64·8 + 8
        ("mlp:4-512-3", 10, 520),
        // bias-free first layer with relu fused; gelu fused; tanh fused into the last layer
        ("input: [3]\nlayers: [{linear: {out: 6, bias: false}}, relu, {linear: 5}, gelu, {linear: 2}, tanh]", 7, 5),
        // flatten, two activations in a row (the second one on its own), a bias-free last layer
        ("input: [2, 3, 2]\nlayers: [flatten, {linear: 7}, sigmoid, tanh, {linear: {out: 3, bias: false}}]", 5, 130),
        // a single linear layer: the stacked first layer writes the outputs
        ("input: [4]\nlayers: [{linear: 3}]", 6, 70),
    ])
    func agreesWithTheSampleMajorForward(specText: String, population: Int, batch: Int) throws {
        let spec = try NetworkSpec.parse(specText)
        let network = try Network(spec: spec)
        network.featureMajorRowsPerTile = 64
        network.featureMajorTileFloats = 64 * 512 * 8
        #expect(network.supportsFeatureMajorForward)
        let n = network.parameterCount
        let inSize = network.inputSize
        let O = network.outputSize
        var stream = RandomStream(seed: 12, purpose: "test")
        var genomes: [Float] = []
        for _ in 0..<population { genomes += network.initializedGenome(stream: &stream) }
        var inputs = [Float](repeating: 0, count: batch * inSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        let expected = network.forward(
            genomes: genomes, populationSize: population, inputs: inputs, batchSize: batch, sharedInputs: true)

        var got = [Float](repeating: .nan, count: population * batch * O)
        var visits = [Int](repeating: 0, count: population * batch)
        var tiles: [(Int, Int, Range<Int>)] = []
        genomes.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                network.forwardFeatureMajor(genomes: g, populationSize: population, inputs: x, batchSize: batch) {
                    first, count, samples, outputs in
                    tiles.append((first, count, samples))
                    let m = samples.count
                    for p in 0..<count {
                        for (b, sample) in samples.enumerated() {
                            visits[(first + p) * batch + sample] += 1
                            for o in 0..<O {
                                got[((first + p) * batch + sample) * O + o] = outputs[(p * O + o) * m + b]
                            }
                        }
                    }
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
        #expect(tiles.allSatisfy { $0.2.count <= 64 })
        if specText.hasPrefix("mlp:4-512") {
            #expect(tiles.map(\.1) == [8, 8, 8, 8, 8, 8, 8, 8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2])
        }
        for i in 0..<expected.count {
            #expect(
                abs(got[i] - expected[i]) <= 1e-5 * max(1, abs(expected[i])), "value \(i): \(got[i]) vs \(expected[i])")
        }
        // The same bits on a second call.
        var again: [Float] = []
        genomes.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                network.forwardFeatureMajor(genomes: g, populationSize: population, inputs: x, batchSize: batch) {
                    _, count, samples, outputs in
                    again += UnsafeBufferPointer(start: outputs, count: count * O * samples.count)
                }
            }
        }
        var first: [Float] = []
        genomes.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                network.forwardFeatureMajor(genomes: g, populationSize: population, inputs: x, batchSize: batch) {
                    _, count, samples, outputs in
                    first += UnsafeBufferPointer(start: outputs, count: count * O * samples.count)
                }
            }
        }
        #expect(first.map(\.bitPattern) == again.map(\.bitPattern))
    }

    @Test(arguments: [
        "input: [1, 4, 4]\nlayers: [{conv2d: {out_channels: 2, kernel: 3}}, flatten, {linear: 3}]",
        "input: [4]\nlayers: [{linear: 3}, softmax]",
        "input: [4]\nlayers: [{linear: 3}, log_softmax]",
        "input: [4]\nlayers: [tanh, {linear: 3}]",
    ])
    func otherSpecsAreLeftToTheSampleMajorForward(specText: String) throws {
        #expect(!(try Network(spec: try NetworkSpec.parse(specText))).supportsFeatureMajorForward)
    }

    /// Genomes given as anchor + low-rank codes give the outputs of the same genomes written out
    /// (`W = W₀ + (σ/√r) A Bᵀ`, `b = b₀ + σ ε`, computed here in Double); tiles of 64 samples and
    /// groups of 8 and 2 genomes, so the anchor's product is reused across groups and recomputed per
    /// sample tile; a bias-free first layer, and codes with room between them.
    @Test(arguments: [
        ("mlp:4-512-3", 10, 130),
        (
            "input: [2, 3, 2]\nlayers: [flatten, {linear: {out: 7, bias: false}}, relu, {linear: 5}, tanh, {linear: 3}]",
            5, 70
        ),
    ])
    func lowRankGenomesAgreeWithTheirWeights(specText: String, population: Int, batch: Int) throws {
        let network = try Network(spec: try NetworkSpec.parse(specText))
        network.featureMajorRowsPerTile = 64
        network.featureMajorTileFloats = 64 * 512 * 8
        let n = network.parameterCount
        let inSize = network.inputSize
        let O = network.outputSize
        let (r, sigma): (Int, Float) = (3, 0.2)
        let (offsets, length) = LowRankGenomes.codeOffsets(network.layout, rank: r)
        let stride = length + 2
        var stream = RandomStream(seed: 4, purpose: "test")
        let anchor = network.initializedGenome(stream: &stream)
        var codes = [Float](repeating: 0, count: population * stride)
        codes.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        var genomes: [Float] = []
        for p in 0..<population {
            var genome = anchor
            for (tensor, offset) in zip(network.layout.tensors, offsets) {
                let code = p * stride + offset
                if LowRankGenomes.isMatrix(tensor) {
                    let (rows, columns) = (tensor.shape[0], tensor.count / tensor.shape[0])
                    for a in 0..<rows {
                        for b in 0..<columns {
                            var sum = 0.0
                            for q in 0..<r {
                                sum +=
                                    Double(codes[code + a * r + q]) * Double(codes[code + rows * r + q * columns + b])
                            }
                            genome[tensor.offset + a * columns + b] += Float(
                                Double(sigma) * sum / Double(r).squareRoot())
                        }
                    }
                } else {
                    for i in 0..<tensor.count { genome[tensor.offset + i] += sigma * codes[code + i] }
                }
            }
            genomes += genome
        }
        #expect(genomes.count == population * n)
        var inputs = [Float](repeating: 0, count: batch * inSize)
        inputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        func collect(_ run: (_ body: (Int, Int, Range<Int>, UnsafePointer<Float>) -> Void) -> Void) -> [Float] {
            var out = [Float](repeating: .nan, count: population * batch * O)
            run { first, count, samples, outputs in
                for p in 0..<count {
                    for (b, sample) in samples.enumerated() {
                        for o in 0..<O {
                            out[((first + p) * batch + sample) * O + o] = outputs[(p * O + o) * samples.count + b]
                        }
                    }
                }
            }
            return out
        }
        let full = genomes.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                collect {
                    network.forwardFeatureMajor(
                        genomes: g, populationSize: population, inputs: x, batchSize: batch, body: $0)
                }
            }
        }
        let low = anchor.withUnsafeBufferPointer { w0 in
            codes.withUnsafeBufferPointer { c in
                inputs.withUnsafeBufferPointer { x in
                    collect { body in
                        network.forwardFeatureMajor(
                            lowRank: LowRankGenomes(
                                anchor: w0.baseAddress!, codes: c.baseAddress!, stride: stride, rank: r, sigma: sigma),
                            populationSize: population, inputs: x, batchSize: batch, body: body)
                    }
                }
            }
        }
        #expect(!low.contains { $0.isNaN })
        for i in full.indices {
            #expect(abs(low[i] - full[i]) <= 1e-4 * max(1, abs(full[i])), "value \(i): \(low[i]) vs \(full[i])")
        }
    }
}
