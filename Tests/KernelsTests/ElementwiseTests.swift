import Foundation
import Kernels
import Testing

@Suite struct ElementwiseTests {
    @Test func layerNormNormalisesEachRow() {
        let B = 3
        let C = 10
        let inp = TestTensor(gaussian: B * C, std: 3, purpose: "inp")
        let weight = TestTensor([Float](repeating: 1, count: C))
        let bias = TestTensor(C)
        let out = TestTensor(B * C)
        let mean = TestTensor(B)
        let rstd = TestTensor(B)
        layerNormForward(out.p, mean.p, rstd.p, inp.p, weight.p, bias.p, B, C)
        for b in 0..<B {
            let row = (0..<C).map { Double(out[b * C + $0]) }
            let m = row.reduce(0, +) / Double(C)
            let variance = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(C)
            #expect(abs(m) < 1e-5)
            #expect(abs(variance - 1) < 1e-3)  // ε = 1e−5 makes it slightly below 1
        }
    }

    @Test func layerNormBackwardMatchesFiniteDifferences() {
        let B = 3
        let C = 6
        let inp = TestTensor(gaussian: B * C, purpose: "inp")
        let weight = TestTensor(gaussian: C, purpose: "weight")
        let bias = TestTensor(gaussian: C, purpose: "bias")
        let dout = TestTensor(gaussian: B * C, purpose: "dout")
        let out = TestTensor(B * C)
        let mean = TestTensor(B)
        let rstd = TestTensor(B)
        let dinp = TestTensor(B * C)
        let dweight = TestTensor(C)
        let dbias = TestTensor(C)
        layerNormForward(out.p, mean.p, rstd.p, inp.p, weight.p, bias.p, B, C)
        layerNormBackward(dinp.p, dweight.p, dbias.p, dout.p, inp.p, weight.p, mean.p, rstd.p, B, C)
        let loss = {
            layerNormForward(out.p, mean.p, rstd.p, inp.p, weight.p, bias.p, B, C)
            return out.dot(dout)
        }
        #expect(finiteDifferenceError(inp, dinp, eps: 1e-3, loss: loss) < 1e-2)
        #expect(finiteDifferenceError(weight, dweight, loss: loss) < 1e-3)
        #expect(finiteDifferenceError(bias, dbias, loss: loss) < 1e-3)
    }

    @Test func geluTanhMatchesTheTanhApproximation() {
        // ½x(1 + tanh(√(2/π)(x + 0.044715x³))) in float64 numpy (PyTorch's approximate="tanh") at x = −2, −0.5, 0, 1, 3
        let inp = TestTensor([-2, -0.5, 0, 1, 3] as [Float])
        let out = TestTensor(5)
        geluTanhForward(out.p, inp.p, 5)
        let expected: [Double] = [-0.04540230591222, -0.15428599017486, 0, 0.84119199060828, 2.99636260791823]
        #expect(worstError(out.values, expected, atol: 1e-6, rtol: 1e-6) <= 1)
    }

    @Test func geluTanhBackwardMatchesFiniteDifferences() {
        let N = 40
        let inp = TestTensor(gaussian: N, std: 2, purpose: "inp")
        let dout = TestTensor(gaussian: N, purpose: "dout")
        let out = TestTensor(N)
        let dinp = TestTensor(N)
        geluTanhBackward(dinp.p, inp.p, dout.p, N)
        #expect(
            finiteDifferenceError(inp, dinp, eps: 1e-3) {
                geluTanhForward(out.p, inp.p, N)
                return out.dot(dout)
            } < 1e-3)
    }

    @Test func geluErfMatchesTheExactForm() {
        // ½x(1 + erf(x/√2)) in float64 (Python's math.erf, PyTorch's default GELU) at x = −2, −0.5, 0, 1, 3
        let inp = TestTensor([-2, -0.5, 0, 1, 3] as [Float])
        let out = TestTensor(5)
        geluErfForward(out.p, inp.p, 5)
        let expected: [Double] = [-0.04550026389635842, -0.15426876936299344, 0, 0.8413447460685429, 2.99595030590511]
        #expect(worstError(out.values, expected, atol: 1e-6, rtol: 1e-6) <= 1)
        // the two forms differ by more than the tolerance: the tests tell them apart
        let tanhForm = TestTensor(5)
        geluTanhForward(tanhForm.p, inp.p, 5)
        #expect(worstError(tanhForm.values, expected, atol: 1e-6, rtol: 1e-6) > 1)
        // in place gives the same bits
        geluErfForward(inp.p, inp.p, 5)
        #expect(inp.values.map(\.bitPattern) == out.values.map(\.bitPattern))
    }

    @Test func geluErfBackwardMatchesFiniteDifferences() {
        let N = 40
        let inp = TestTensor(gaussian: N, std: 2, purpose: "inp")
        let dout = TestTensor(gaussian: N, purpose: "dout")
        let out = TestTensor(N)
        let dinp = TestTensor(N)
        geluErfBackward(dinp.p, inp.p, dout.p, N)
        #expect(
            finiteDifferenceError(inp, dinp, eps: 1e-3) {
                geluErfForward(out.p, inp.p, N)
                return out.dot(dout)
            } < 1e-3)
    }

    @Test func softmaxRowsSumToOneAndBackwardMatchesFiniteDifferences() {
        let N = 4
        let V = 7
        let logits = TestTensor(gaussian: N * V, std: 3, purpose: "logits")
        let dprobs = TestTensor(gaussian: N * V, purpose: "dprobs")
        let probs = TestTensor(N * V)
        let dlogits = TestTensor(N * V)
        softmaxForward(probs.p, logits.p, N, V)
        for r in 0..<N {
            let sum = (0..<V).reduce(0.0) { $0 + Double(probs[r * V + $1]) }
            #expect(abs(sum - 1) < 1e-6)
        }
        softmaxBackward(dlogits.p, dprobs.p, probs.p, N, V)
        #expect(
            finiteDifferenceError(logits, dlogits, eps: 1e-3) {
                softmaxForward(probs.p, logits.p, N, V)
                return probs.dot(dprobs)
            } < 1e-3)
    }

    @Test func softmaxMatchesFloat64AndMasksEntries() {
        let N = 3
        let V = 6
        let logits = TestTensor(gaussian: N * V, std: 4, purpose: "logits")
        let probs = TestTensor(N * V)
        softmaxForward(probs.p, logits.p, N, V)
        var expected: [Double] = []
        for r in 0..<N {
            let x = (0..<V).map { Double(logits[r * V + $0]) }
            let e = x.map { Foundation.exp($0 - x.max()!) }
            expected += e.map { $0 / e.reduce(0, +) }
        }
        #expect(worstError(probs.values, expected, atol: 1e-7, rtol: 1e-6) <= 1)
        // masked entries get exactly 0 and the rest renormalise; an all-masked row is all zeros
        let mask = TestTensor([1, 0, 1, 1, 0, 1] as [Float])
        softmaxForward(probs.p, logits.p, N, V, mask: mask.p)
        for r in 0..<N {
            let kept = [0, 2, 3, 5].map { Double(logits[r * V + $0]) }
            let e = kept.map { Foundation.exp($0 - kept.max()!) }
            for (j, value) in zip([0, 2, 3, 5], e) {
                #expect(abs(Double(probs[r * V + j]) - value / e.reduce(0, +)) <= 1e-6)
            }
            #expect(probs[r * V + 1] == 0 && probs[r * V + 4] == 0)
        }
        let none = TestTensor(V)
        softmaxForward(probs.p, logits.p, 1, V, mask: none.p)
        #expect(probs.values.prefix(V).allSatisfy { $0 == 0 })
    }

    @Test func logSoftmaxMatchesFloat64AndBackwardMatchesFiniteDifferences() {
        let N = 4
        let V = 5
        let logits = TestTensor(gaussian: N * V, std: 3, purpose: "logits")
        let dout = TestTensor(gaussian: N * V, purpose: "dout")
        let out = TestTensor(N * V)
        let dlogits = TestTensor(N * V)
        logSoftmaxForward(out.p, logits.p, N, V)
        var expected: [Double] = []
        for r in 0..<N {
            let x = (0..<V).map { Double(logits[r * V + $0]) }
            let m = x.max()!
            let lse = m + Foundation.log(x.map { Foundation.exp($0 - m) }.reduce(0, +))
            expected += x.map { $0 - lse }
        }
        #expect(worstError(out.values, expected, atol: 1e-6, rtol: 1e-6) <= 1)
        logSoftmaxBackward(dlogits.p, dout.p, out.p, N, V)
        #expect(
            finiteDifferenceError(logits, dlogits, eps: 1e-3) {
                logSoftmaxForward(out.p, logits.p, N, V)
                return out.dot(dout)
            } < 1e-3)
    }

    @Test func residualBroadcastAndMeanPoolBackwardsMatchFiniteDifferences() {
        let B = 3
        let T = 4
        let C = 5
        let a = TestTensor(gaussian: T * C, purpose: "a")
        let b = TestTensor(gaussian: T * C, purpose: "b")
        let dout = TestTensor(gaussian: B * T * C, purpose: "dout")
        let sum = TestTensor(T * C)
        let da = TestTensor(T * C)
        let db = TestTensor(T * C)
        residualBackward(da.p, db.p, dout.p, T * C)
        #expect(
            finiteDifferenceError(a, da) {
                residualForward(sum.p, a.p, b.p, T * C)
                return sum.dot(dout)
            } < 1e-4)

        let broadcast = TestTensor(B * T * C)
        let dRow = TestTensor(T * C)
        broadcastBackward(dRow.p, dout.p, B, T * C)
        #expect(
            finiteDifferenceError(a, dRow) {
                broadcastForward(broadcast.p, a.p, B, T * C)
                return broadcast.dot(dout)
            } < 1e-4)

        let x = TestTensor(gaussian: B * T * C, purpose: "x")
        let dPooled = TestTensor(gaussian: B * C, purpose: "dpooled")
        let pooled = TestTensor(B * C)
        let dx = TestTensor(B * T * C)
        meanPoolBackward(dx.p, dPooled.p, B, T, C)
        #expect(
            finiteDifferenceError(x, dx) {
                meanPoolForward(pooled.p, x.p, B, T, C)
                return pooled.dot(dPooled)
            } < 1e-4)
        #expect(abs(pooled[0] - (0..<T).reduce(Float(0)) { $0 + x[$1 * C] } / Float(T)) < 1e-6)
    }

    @Test func fourierFeaturesAreSinesAndCosinesOfPowersOfTwo() {
        let N = 2
        let F = 3
        let L = 4
        let inp = TestTensor([0.25, 0.5, 1, 0, 0.125, 0.75] as [Float])
        let out = TestTensor(N * F * (1 + 2 * L))
        fourierFeaturesForward(out.p, inp.p, N, F, L)
        for n in 0..<N {
            for f in 0..<F {
                let x = Double(inp[n * F + f])
                let base = (n * F + f) * (1 + 2 * L)
                #expect(out[base] == Float(x))
                for l in 0..<L {
                    let angle = Double.pi * Double(1 << l) * x
                    #expect(abs(Double(out[base + 1 + l]) - sin(angle)) < 1e-5)
                    #expect(abs(Double(out[base + 1 + L + l]) - cos(angle)) < 1e-5)
                }
            }
        }
    }
}
