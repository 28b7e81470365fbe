import Foundation
import Kernels
import Testing

/// Random streams: reproducible per key, independent across keys, right distributions, and a
/// portable logarithm that agrees with libm.
@Suite("RandomStream")
struct RandomStreamTests {
    @Test("the same key gives the same numbers; any other key gives others")
    func keyed() {
        var a = RandomStream(seed: 42, island: 3, generation: 7, purpose: "mutation")
        var b = RandomStream(seed: 42, island: 3, generation: 7, purpose: "mutation")
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        let others = [
            RandomStream(seed: 43, island: 3, generation: 7, purpose: "mutation"),
            RandomStream(seed: 42, island: 4, generation: 7, purpose: "mutation"),
            RandomStream(seed: 42, island: 3, generation: 8, purpose: "mutation"),
            RandomStream(seed: 42, island: 3, generation: 7, purpose: "selection"),
        ]
        for var other in others {
            #expect((0..<8).map { _ in other.next() } != first)
        }
    }

    @Test("xoshiro256** and SplitMix64 match their reference outputs")
    func referenceValues() {
        // SplitMix64 from state 0: the first outputs published with the reference C code.
        var mixer = SplitMix64(state: 0)
        #expect(mixer.next() == 0xE220_A839_7B1D_CDAF)
        #expect(mixer.next() == 0x6E78_9E6A_A1B9_65F4)
        // Key hashing + xoshiro256**, as computed independently by
        // scripts/fixtures/random_stream_reference.py. A change here changes every run's results.
        var stream = RandomStream(seed: 1, purpose: "pinned")
        let pinned = (0..<3).map { _ in stream.next() }
        #expect(pinned == [0xA2FC_C093_D83A_EA0D, 0x7C87_4098_F09F_06FE, 0xE724_CAE7_CA0F_0C69])
    }

    @Test("uniform, below and gaussian have the right moments")
    func moments() {
        var stream = RandomStream(seed: 9, purpose: "moments")
        let n = 200_000
        var sum = 0.0
        var sumSquares = 0.0
        var gaussianSum = 0.0
        var gaussianSquares = 0.0
        var fourth = 0.0
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<n {
            let u = stream.uniform()
            #expect(u >= 0 && u < 1)
            sum += u
            sumSquares += u * u
            counts[stream.below(7)] += 1
            let g = stream.gaussian()
            gaussianSum += g
            gaussianSquares += g * g
            fourth += g * g * g * g
        }
        #expect(abs(sum / Double(n) - 0.5) < 0.005)
        #expect(abs(sumSquares / Double(n) - 1.0 / 3.0) < 0.005)
        for c in counts { #expect(abs(Double(c) / Double(n) - 1.0 / 7.0) < 0.005) }
        #expect(abs(gaussianSum / Double(n)) < 0.01)
        #expect(abs(gaussianSquares / Double(n) - 1) < 0.015)
        #expect(abs(fourth / Double(n) - 3) < 0.1)
    }

    @Test("state survives a Codable round trip mid-stream, Gaussian spare included")
    func codable() throws {
        var stream = RandomStream(seed: 5, purpose: "checkpoint")
        _ = stream.gaussian()
        let saved = try JSONEncoder().encode(stream)
        var restored = try JSONDecoder().decode(RandomStream.self, from: saved)
        #expect((0..<5).map { _ in stream.gaussian() } == (0..<5).map { _ in restored.gaussian() })
    }

    @Test("PortableMath.log agrees with libm to 4 ulp")
    func portableLog() {
        var stream = RandomStream(seed: 3, purpose: "log")
        var inputs: [Double] = [1, 2, 0.5, 1e-300, 1e300, 0.7071067811865476, 1.4142135623730951, 3.0e-8]
        for _ in 0..<2000 { inputs.append(stream.uniform() * 10 + 1e-12) }
        for x in inputs {
            let expected = Foundation.log(x)
            #expect(
                abs(PortableMath.log(x) - expected) <= 4 * max(expected.ulp, Double.leastNormalMagnitude), "x = \(x)")
        }
    }

    @Test("shuffle is a permutation")
    func shuffle() {
        var stream = RandomStream(seed: 11, purpose: "shuffle")
        var values = Array(0..<100)
        stream.shuffle(&values)
        #expect(values != Array(0..<100))
        #expect(values.sorted() == Array(0..<100))
    }
}
