import Foundation
import Kernels
import Networks
import Testing

@Suite struct NetworkForwardTests {
    /// Network and reference fixture from scripts/fixtures/network_forward_fixture.py.
    private func loadFixture(_ name: String) throws -> (network: Network, fixture: [String: Any]) {
        let fixture = try Fixture.json(name)
        let specJSON = try JSONSerialization.data(withJSONObject: try #require(fixture["spec"]))
        let network = try Network(spec: try NetworkSpec.parse(String(decoding: specJSON, as: UTF8.self)))
        return (network, fixture)
    }

    @Test(arguments: ["forward_mlp.json", "forward_conv.json", "forward_pool.json"])
    func matchesTheNumpyReference(name: String) throws {
        let (network, fixture) = try loadFixture(name)
        let tensors = try #require(fixture["tensors"] as? [[String: Any]])
        #expect(network.layout.tensors.map(\.name) == tensors.map { $0["name"] as! String })
        #expect(network.layout.tensors.map(\.shape) == tensors.map { ($0["shape"] as! [NSNumber]).map(\.intValue) })
        let genome = try Fixture.floats(fixture["genome"])
        let inputs = try Fixture.floats(fixture["inputs"])
        let expected = try Fixture.doubles(fixture["outputs"])
        let batch = try #require(fixture["batch"] as? Int)
        #expect(genome.count == network.parameterCount)
        #expect(expected.count == batch * network.outputSize)

        // Float32 sums of at most 54 products of values below ~2: errors stay near 1e-6.
        let outputs = network.forward(
            genomes: genome, populationSize: 1, inputs: inputs, batchSize: batch, sharedInputs: true)
        for (got, want) in zip(outputs, expected) {
            #expect(abs(Double(got) - want) <= 2e-5 * max(1, abs(want)), "\(got) vs \(want)")
        }
        var recorded = [Float](repeating: 0, count: expected.count)
        genome.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                recorded.withUnsafeMutableBufferPointer { y in
                    network.forwardRecording(genome: g, inputs: x, batchSize: batch, outputs: y)
                }
            }
        }
        #expect(recorded == outputs)
    }

    /// Population forward (shared and per-genome inputs, several genome groups and row tiles)
    /// against single-genome calls and the float64 reference.
    @Test(arguments: [
        // 10 genomes of 512 hidden units: two groups (8 + 2) of three row tiles (256 + 256 + 8)
        ("mlp:4-512-3", 10, 520),
        // bias-free first layer with relu fused; gelu and tanh fused, the last one into the outputs
        ("input: [3]\nlayers: [{linear: {out: 6, bias: false}}, relu, {linear: 5}, gelu, {linear: 2}, tanh]", 7, 5),
        ("input: [4]\nlayers: [tanh, {linear: 7}, sigmoid, {linear: {out: 3, bias: false}}, softmax]", 5, 9),
        (
            "input: [2, 5, 4]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, stride: 2, padding: 1}}, relu, flatten, {linear: 4}, log_softmax]",
            4, 11
        ),
        ("input: [3]\nlayers: [gelu, log_softmax]", 3, 4),
        // a convolution writes the outputs, an activation follows on the 3-D output
        ("input: [1, 4, 4]\nlayers: [{conv2d: {out_channels: 2, kernel: 3, padding: 1}}, tanh]", 3, 6),
        // conv, relu, pool on an odd map, a second (per-genome) conv and an overlapping pool;
        // 300 samples: two row tiles
        (
            "input: [2, 7, 6]\nlayers: [{conv2d: {out_channels: 3, kernel: 3, padding: 1}}, relu, {maxpool2d: 2}, {conv2d: {out_channels: 4, kernel: 2}}, relu, {maxpool2d: {kernel_size: 2, stride: 1}}, flatten, {linear: 5}]",
            5, 300
        ),
        // a pool on the inputs, and a pool after the last convolution writes the outputs
        (
            "input: [1, 5, 5]\nlayers: [{maxpool2d: {kernel_size: 3, stride: 1}}, {conv2d: {out_channels: 2, kernel: 2}}, tanh, {maxpool2d: {kernel_size: 2, stride: 1}}]",
            3, 4
        ),
        // a pool straight after a conv (pooled inside the conv's scatter), and after gelu (not
        // monotone, so pooled as its own layer)
        (
            "input: [1, 6, 6]\nlayers: [{conv2d: {out_channels: 2, kernel: 3, padding: 1}}, {maxpool2d: 2}, {conv2d: {out_channels: 3, kernel: 2}}, gelu, {maxpool2d: 2}, flatten, {linear: 3}]",
            4, 5
        ),
    ])
    func populationForwardAgreesWithOneGenomeAtATime(specText: String, population: Int, batch: Int) throws {
        let spec = try NetworkSpec.parse(specText)
        let network = try Network(spec: spec)
        let reference = try ReferenceNetwork(spec: spec)
        let n = network.parameterCount
        let inSize = network.inputSize
        let outSize = network.outputSize
        var stream = RandomStream(seed: 11, purpose: "test")
        var genomes: [Float] = []
        for _ in 0..<population { genomes += network.initializedGenome(stream: &stream) }
        var ownInputs = [Float](repeating: 0, count: population * batch * inSize)
        ownInputs.withUnsafeMutableBufferPointer { stream.fillGaussian($0) }
        let sharedInputs = Array(ownInputs.prefix(batch * inSize))

        let shared = network.forward(
            genomes: genomes, populationSize: population, inputs: sharedInputs, batchSize: batch, sharedInputs: true)
        let own = network.forward(
            genomes: genomes, populationSize: population, inputs: ownInputs, batchSize: batch, sharedInputs: false)
        for p in 0..<population {
            let genome = Array(genomes[p * n..<(p + 1) * n])
            let single = network.forward(
                genomes: genome, populationSize: 1, inputs: sharedInputs, batchSize: batch, sharedInputs: true)
            let singleOwn = network.forward(
                genomes: genome, populationSize: 1,
                inputs: Array(ownInputs[p * batch * inSize..<(p + 1) * batch * inSize]),
                batchSize: batch, sharedInputs: true)
            for k in 0..<(batch * outSize) {
                #expect(abs(shared[p * batch * outSize + k] - single[k]) <= 1e-5)
                #expect(abs(own[p * batch * outSize + k] - singleOwn[k]) <= 1e-5)
            }
            let genome64 = genome.map(Double.init)
            for b in stride(from: 0, to: batch, by: max(1, batch / 7)) {
                let x = sharedInputs[b * inSize..<(b + 1) * inSize].map(Double.init)
                let want = reference.forward(genome: genome64, sample: x)
                for o in 0..<outSize {
                    let got = Double(shared[(p * batch + b) * outSize + o])
                    #expect(
                        abs(got - want[o]) <= 1e-4 * max(1, abs(want[o])),
                        "genome \(p) sample \(b): \(got) vs \(want[o])")
                }
            }
        }
    }

    @Test func initializationFollowsPyTorchBounds() throws {
        let network = try Network(
            spec: try NetworkSpec.parse(
                """
                input: [3, 6, 6]
                layers: [{conv2d: {out_channels: 8, kernel: 3}}, flatten, {linear: 40}, relu, {linear: 10}]
                """))
        var stream = RandomStream(seed: 5, purpose: "init")
        let genome = network.initializedGenome(stream: &stream)
        var again = RandomStream(seed: 5, purpose: "init")
        #expect(network.initializedGenome(stream: &again) == genome)
        let fanIns = ["0.weight": 27, "0.bias": 27, "2.weight": 128, "2.bias": 128, "4.weight": 40, "4.bias": 40]
        for tensor in network.layout.tensors {
            let bound = Float(1 / Double(fanIns[tensor.name]!).squareRoot())
            let values = genome[tensor.offset..<tensor.offset + tensor.count]
            #expect(values.allSatisfy { $0 >= -bound && $0 < bound }, "\(tensor.name)")
            if tensor.count >= 200 {
                // U(−a, a): the extremes approach ±a and the variance is a²/3.
                #expect(values.max()! > 0.95 * bound && values.min()! < -0.95 * bound)
                let variance = values.reduce(0) { $0 + Double($1 * $1) } / Double(values.count)
                #expect(abs(variance / Double(bound * bound) - 1.0 / 3) < 0.05, "\(tensor.name): \(variance)")
            }
        }
    }
}
