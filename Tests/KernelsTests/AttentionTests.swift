import Foundation
import Kernels
import Testing

/// One case of `Fixtures/attention.json` (see scripts/fixtures/attention_fixture.py).
struct AttentionCase: Decodable {
    let name: String
    let B: Int, Tq: Int, Tk: Int, D: Int, NH: Int
    let selfAttention: Bool
    let xq: [Double], xkv: [Double], mask: [Double], dout: [Double]
    let wq: [Double], bq: [Double], wk: [Double], bk: [Double], wv: [Double], bv: [Double], wo: [Double], bo: [Double]
    let q: [Double], k: [Double], v: [Double], attended: [Double], att: [Double], out: [Double]
    let dq: [Double], dk: [Double], dv: [Double], dxq: [Double], dxkv: [Double]
    let dwq: [Double], dbq: [Double], dwk: [Double], dbk: [Double], dwv: [Double], dbv: [Double], dwo: [Double],
        dbo: [Double]

    static func load() throws -> [AttentionCase] {
        struct File: Decodable { let cases: [AttentionCase] }
        let url = try #require(
            Bundle.module.url(forResource: "attention", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }
}

@Suite struct AttentionTests {
    /// Float32 kernels against float64 numpy: values of order 1, about 1e−6 relative rounding per
    /// operation, so 1e−4 absolute plus 1e−4 relative.
    let atol = 1e-4, rtol = 1e-4

    @Test func coreForwardAndBackwardMatchNumpy() throws {
        for c in try AttentionCase.load() {
            let q = TestTensor(c.q)
            let k = TestTensor(c.k)
            let v = TestTensor(c.v)
            let mask = TestTensor(c.mask)
            let out = TestTensor(c.B * c.Tq * c.D)
            let att = TestTensor(c.B * c.NH * c.Tq * c.Tk)
            attentionForward(out.p, att.p, q.p, k.p, v.p, mask.p, c.B, c.Tq, c.Tk, c.D, c.NH)
            #expect(worstError(out.values, c.attended, atol: atol, rtol: rtol) <= 1, "\(c.name) out")
            #expect(worstError(att.values, c.att, atol: atol, rtol: rtol) <= 1, "\(c.name) att")

            // the block's gradient with respect to the attention output is dout · Wo
            let dAttended = TestTensor(c.B * c.Tq * c.D)
            let wo = TestTensor(c.wo)
            let dwo = TestTensor(c.D * c.D)
            let dout = TestTensor(c.dout)
            let attended = TestTensor(c.attended)
            linearBackward(dAttended.p, dwo.p, nil, dout.p, attended.p, wo.p, c.B * c.Tq, c.D, c.D)
            let dq = TestTensor(q.count)
            let dk = TestTensor(k.count)
            let dv = TestTensor(v.count)
            let scratch = TestTensor(c.Tq * c.Tk)
            attentionBackward(
                dq.p, dk.p, dv.p, scratch.p, dAttended.p, att.p, q.p, k.p, v.p, c.B, c.Tq, c.Tk, c.D, c.NH)
            #expect(worstError(dq.values, c.dq, atol: atol, rtol: rtol) <= 1, "\(c.name) dq")
            #expect(worstError(dk.values, c.dk, atol: atol, rtol: rtol) <= 1, "\(c.name) dk")
            #expect(worstError(dv.values, c.dv, atol: atol, rtol: rtol) <= 1, "\(c.name) dv")
        }
    }

    /// The whole block (projections, attention, output projection) composed from the kernels, as the
    /// autoencoder composes it, against numpy's forward and hand-written backward.
    @Test func projectedBlockMatchesNumpy() throws {
        for c in try AttentionCase.load() {
            let B = c.B
            let Tq = c.Tq
            let Tk = c.Tk
            let D = c.D
            let NH = c.NH
            let xq = TestTensor(c.xq)
            let xkv = c.selfAttention ? xq : TestTensor(c.xkv)
            let mask = TestTensor(c.mask)
            let wq = TestTensor(c.wq)
            let bq = TestTensor(c.bq)
            let wk = TestTensor(c.wk)
            let bk = TestTensor(c.bk)
            let wv = TestTensor(c.wv)
            let bv = TestTensor(c.bv)
            let wo = TestTensor(c.wo)
            let bo = TestTensor(c.bo)
            let q = TestTensor(B * Tq * D)
            let k = TestTensor(B * Tk * D)
            let v = TestTensor(B * Tk * D)
            let attended = TestTensor(B * Tq * D)
            let att = TestTensor(B * NH * Tq * Tk)
            let out = TestTensor(B * Tq * D)
            linearForward(q.p, xq.p, wq.p, bq.p, B * Tq, D, D)
            linearForward(k.p, xkv.p, wk.p, bk.p, B * Tk, D, D)
            linearForward(v.p, xkv.p, wv.p, bv.p, B * Tk, D, D)
            attentionForward(attended.p, att.p, q.p, k.p, v.p, mask.p, B, Tq, Tk, D, NH)
            linearForward(out.p, attended.p, wo.p, bo.p, B * Tq, D, D)
            #expect(worstError(out.values, c.out, atol: atol, rtol: rtol) <= 1, "\(c.name) out")

            let dout = TestTensor(c.dout)
            let dxq = TestTensor(xq.count)
            let dxkv = c.selfAttention ? dxq : TestTensor(xkv.count)
            let dwq = TestTensor(D * D)
            let dbq = TestTensor(D)
            let dwk = TestTensor(D * D)
            let dbk = TestTensor(D)
            let dwv = TestTensor(D * D)
            let dbv = TestTensor(D)
            let dwo = TestTensor(D * D)
            let dbo = TestTensor(D)
            let dq = TestTensor(q.count)
            let dk = TestTensor(k.count)
            let dv = TestTensor(v.count)
            let dAttended = TestTensor(attended.count)
            let scratch = TestTensor(Tq * Tk)
            linearBackward(dAttended.p, dwo.p, dbo.p, dout.p, attended.p, wo.p, B * Tq, D, D)
            attentionBackward(dq.p, dk.p, dv.p, scratch.p, dAttended.p, att.p, q.p, k.p, v.p, B, Tq, Tk, D, NH)
            linearBackward(dxq.p, dwq.p, dbq.p, dq.p, xq.p, wq.p, B * Tq, D, D)
            linearBackward(dxkv.p, dwk.p, dbk.p, dk.p, xkv.p, wk.p, B * Tk, D, D)
            linearBackward(dxkv.p, dwv.p, dbv.p, dv.p, xkv.p, wv.p, B * Tk, D, D)
            let pairs: [(String, TestTensor, [Double])] =
                [
                    ("dxq", dxq, c.dxq), ("dwq", dwq, c.dwq), ("dbq", dbq, c.dbq), ("dwk", dwk, c.dwk),
                    ("dbk", dbk, c.dbk),
                    ("dwv", dwv, c.dwv), ("dbv", dbv, c.dbv), ("dwo", dwo, c.dwo), ("dbo", dbo, c.dbo),
                ] + (c.selfAttention ? [] : [("dxkv", dxkv, c.dxkv)])
            for (name, actual, expected) in pairs {
                #expect(worstError(actual.values, expected, atol: atol, rtol: rtol) <= 1, "\(c.name) \(name)")
            }
        }
    }

    @Test func backwardMatchesFiniteDifferencesWithMask() {
        let B = 2
        let Tq = 3
        let Tk = 4
        let D = 6
        let NH = 2
        let q = TestTensor(gaussian: B * Tq * D, purpose: "q")
        let k = TestTensor(gaussian: B * Tk * D, purpose: "k")
        let v = TestTensor(gaussian: B * Tk * D, purpose: "v")
        let mask = TestTensor([1, 1, 1, 1, 1, 0, 1, 0] as [Float])
        let dout = TestTensor(gaussian: B * Tq * D, purpose: "dout")
        let out = TestTensor(B * Tq * D)
        let att = TestTensor(B * NH * Tq * Tk)
        let dq = TestTensor(q.count)
        let dk = TestTensor(k.count)
        let dv = TestTensor(v.count)
        let scratch = TestTensor(Tq * Tk)
        attentionForward(out.p, att.p, q.p, k.p, v.p, mask.p, B, Tq, Tk, D, NH)
        attentionBackward(dq.p, dk.p, dv.p, scratch.p, dout.p, att.p, q.p, k.p, v.p, B, Tq, Tk, D, NH)
        let loss = {
            attentionForward(out.p, att.p, q.p, k.p, v.p, mask.p, B, Tq, Tk, D, NH)
            return out.dot(dout)
        }
        #expect(finiteDifferenceError(q, dq, eps: 1e-3, loss: loss) < 1e-2)
        #expect(finiteDifferenceError(k, dk, eps: 1e-3, loss: loss) < 1e-2)
        #expect(finiteDifferenceError(v, dv, eps: 1e-3, loss: loss) < 1e-2)
        // masked keys (batch 1, keys 1 and 3) have no influence, hence no gradient
        for t in [1, 3] {
            for c in 0..<D {
                #expect(dk[(Tk + t) * D + c] == 0)
                #expect(dv[(Tk + t) * D + c] == 0)
            }
        }
    }

    @Test func queriesWithEveryKeyMaskedGiveZeros() {
        let B = 1
        let Tq = 2
        let Tk = 3
        let D = 4
        let NH = 2
        let q = TestTensor(gaussian: Tq * D, purpose: "q")
        let kv = TestTensor(gaussian: Tk * D, purpose: "kv")
        let mask = TestTensor(Tk)
        let out = TestTensor([Float](repeating: 7, count: Tq * D))
        let att = TestTensor(NH * Tq * Tk)
        attentionForward(out.p, att.p, q.p, kv.p, kv.p, mask.p, B, Tq, Tk, D, NH)
        #expect(out.values.allSatisfy { $0 == 0 })
        #expect(att.values.allSatisfy { $0 == 0 })
    }
}
