import Kernels
import Testing

@Suite struct LinearTests {
    let B = 5, C = 7, OC = 4

    @Test func forwardMatchesTheDefinition() {
        let inp = TestTensor(gaussian: B * C, purpose: "inp")
        let weight = TestTensor(gaussian: OC * C, purpose: "weight")
        let bias = TestTensor(gaussian: OC, purpose: "bias")
        let out = TestTensor(B * OC)
        linearForward(out.p, inp.p, weight.p, bias.p, B, C, OC)
        var expected = [Double]()
        for b in 0..<B {
            for o in 0..<OC {
                var sum = Double(bias[o])
                for c in 0..<C { sum += Double(inp[b * C + c]) * Double(weight[o * C + c]) }
                expected.append(sum)
            }
        }
        #expect(worstError(out.values, expected, atol: 1e-5, rtol: 1e-5) <= 1)
        linearForward(out.p, inp.p, weight.p, nil, B, C, OC)
        #expect(abs(Double(out[0]) - (expected[0] - Double(bias[0]))) < 1e-5)
    }

    @Test func backwardMatchesFiniteDifferences() {
        let inp = TestTensor(gaussian: B * C, purpose: "inp")
        let weight = TestTensor(gaussian: OC * C, purpose: "weight")
        let bias = TestTensor(gaussian: OC, purpose: "bias")
        let dout = TestTensor(gaussian: B * OC, purpose: "dout")
        let out = TestTensor(B * OC)
        let dinp = TestTensor(B * C)
        let dweight = TestTensor(OC * C)
        let dbias = TestTensor(OC)
        linearBackward(dinp.p, dweight.p, dbias.p, dout.p, inp.p, weight.p, B, C, OC)
        let loss = {
            linearForward(out.p, inp.p, weight.p, bias.p, B, C, OC)
            return out.dot(dout)
        }
        #expect(finiteDifferenceError(inp, dinp, loss: loss) < 1e-3)
        #expect(finiteDifferenceError(weight, dweight, loss: loss) < 1e-3)
        #expect(finiteDifferenceError(bias, dbias, loss: loss) < 1e-3)
    }

    @Test func backwardAddsIntoGradients() {
        let inp = TestTensor(gaussian: B * C, purpose: "inp")
        let weight = TestTensor(gaussian: OC * C, purpose: "weight")
        let dout = TestTensor(gaussian: B * OC, purpose: "dout")
        let once = TestTensor(OC * C)
        let twice = TestTensor(OC * C)
        let dinp = TestTensor(B * C)
        let dbias = TestTensor(OC)
        linearBackward(nil, once.p, nil, dout.p, inp.p, weight.p, B, C, OC)
        linearBackward(dinp.p, twice.p, dbias.p, dout.p, inp.p, weight.p, B, C, OC)
        linearBackward(dinp.p, twice.p, dbias.p, dout.p, inp.p, weight.p, B, C, OC)
        for i in 0..<OC * C { #expect(abs(twice[i] - 2 * once[i]) <= 1e-5 * max(1, abs(once[i]))) }
    }
}
