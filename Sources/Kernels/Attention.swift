import CBLAS
import Foundation

/// Multi-head scaled dot-product attention (Vaswani et al. 2017) on projected queries, keys and
/// values, batched over `B`; self-attention passes projections of one sequence, cross-attention
/// queries from one sequence and keys/values from another.
///
/// The width `C` is split into `NH` heads of `hs = C / NH` channels (head `h` owns channels
/// `h·hs ..< (h+1)·hs`). For each batch element and head:
/// `att = softmax(q_h k_hᵀ / √hs + mask)`, `out_h = att · v_h`, where the mask adds `−∞` to the
/// score of every key with `keyMask[b, j] == 0` (padded tokens), so its probability is exactly 0.
/// A query whose keys are all masked gets all-zero probabilities and a zero output. The
/// probabilities are `softmaxForward`'s (exponentials by `fastExpNonPositive`).
/// Two `cblas_sgemm` calls per batch element and head.
///
/// - Parameters:
///   - out: `(B, Tq, C)`, overwritten.
///   - att: `(B, NH, Tq, Tk)`, the attention probabilities, kept for the backward pass.
///   - q: `(B, Tq, C)`.
///   - k: `(B, Tk, C)`.
///   - v: `(B, Tk, C)`.
///   - keyMask: `(B, Tk)`, 1 for a real key and 0 for padding, or `nil` when every key is real.
///   - NH: number of heads; `C` must be a multiple of it.
public func attentionForward(
    _ out: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>,
    _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
    _ keyMask: UnsafePointer<Float>?,
    _ B: Int, _ Tq: Int, _ Tk: Int, _ C: Int, _ NH: Int
) {
    // out is (B,Tq,C), att is (B,NH,Tq,Tk), q is (B,Tq,C), k and v are (B,Tk,C), keyMask is (B,Tk)
    precondition(C % NH == 0, "attention width \(C) is not a multiple of the head count \(NH)")
    guard B > 0, Tq > 0 else { return }
    guard Tk > 0 else {
        out.update(repeating: 0, count: B * Tq * C)
        return
    }
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    for b in 0..<B {
        let mask = keyMask.map { $0 + b * Tk }
        for h in 0..<NH {
            let qh = q + b * Tq * C + h * hs
            let kh = k + b * Tk * C + h * hs
            let vh = v + b * Tk * C + h * hs
            let atth = att + (b * NH + h) * Tq * Tk
            // scores (Tq,Tk) = scale · q_h (Tq,hs) · k_hᵀ (hs,Tk)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(Tq), Int32(Tk), Int32(hs),
                scale, qh, Int32(C), kh, Int32(C), 0, atth, Int32(Tk))
            softmaxForward(atth, atth, Tq, Tk, mask: mask)
            // out_h (Tq,hs) = att (Tq,Tk) · v_h (Tk,hs)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(Tq), Int32(hs), Int32(Tk),
                1, atth, Int32(Tk), vh, Int32(C), 0, out + b * Tq * C + h * hs, Int32(C))
        }
    }
}

/// Backward pass of `attentionForward`; adds into `dq`, `dk` and `dv`.
///
/// Per batch element and head, with `s = 1/√hs`, `P = att`, `G = dout_h`:
/// `dv_h += Pᵀ G`, `dP = G v_hᵀ`, `dS = P ⊙ (dP − rowsum(P ⊙ dP))` (softmax backward; masked keys
/// have `P = 0` and so get no gradient), `dq_h += s · dS k_h`, `dk_h += s · dSᵀ q_h`.
///
/// - Parameters:
///   - dq: `(B, Tq, C)`.
///   - dk: `(B, Tk, C)`.
///   - dv: `(B, Tk, C)`.
///   - scratch: `(Tq, Tk)` of workspace, overwritten.
///   - dout: `(B, Tq, C)`.
///   - att: `(B, NH, Tq, Tk)`, from the forward pass.
///   - q: `(B, Tq, C)`, `k`: `(B, Tk, C)`, `v`: `(B, Tk, C)`, the forward inputs.
public func attentionBackward(
    _ dq: UnsafeMutablePointer<Float>, _ dk: UnsafeMutablePointer<Float>, _ dv: UnsafeMutablePointer<Float>,
    _ scratch: UnsafeMutablePointer<Float>,
    _ dout: UnsafePointer<Float>, _ att: UnsafePointer<Float>,
    _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
    _ B: Int, _ Tq: Int, _ Tk: Int, _ C: Int, _ NH: Int
) {
    precondition(C % NH == 0, "attention width \(C) is not a multiple of the head count \(NH)")
    guard B > 0, Tq > 0, Tk > 0 else { return }
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    for b in 0..<B {
        for h in 0..<NH {
            let offsetQ = b * Tq * C + h * hs
            let offsetK = b * Tk * C + h * hs
            let atth = att + (b * NH + h) * Tq * Tk
            let douth = dout + offsetQ
            // dP (Tq,Tk) = dout_h (Tq,hs) · v_hᵀ (hs,Tk)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(Tq), Int32(Tk), Int32(hs),
                1, douth, Int32(C), v + offsetK, Int32(C), 0, scratch, Int32(Tk))
            // dv_h (Tk,hs) += attᵀ (Tk,Tq) · dout_h (Tq,hs)
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasNoTrans, Int32(Tk), Int32(hs), Int32(Tq),
                1, atth, Int32(Tk), douth, Int32(C), 1, dv + offsetK, Int32(C))
            // dS = P ⊙ (dP − rowsum(P ⊙ dP)), in place
            for i in 0..<Tq {
                let p = atth + i * Tk
                let g = scratch + i * Tk
                var dot: Float = 0
                for j in 0..<Tk { dot += p[j] * g[j] }
                for j in 0..<Tk { g[j] = p[j] * (g[j] - dot) }
            }
            // dq_h (Tq,hs) += scale · dS (Tq,Tk) · k_h (Tk,hs)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(Tq), Int32(hs), Int32(Tk),
                scale, scratch, Int32(Tk), k + offsetK, Int32(C), 1, dq + offsetQ, Int32(C))
            // dk_h (Tk,hs) += scale · dSᵀ (Tk,Tq) · q_h (Tq,hs)
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasNoTrans, Int32(Tk), Int32(hs), Int32(Tq),
                scale, scratch, Int32(Tk), q + offsetQ, Int32(C), 1, dk + offsetK, Int32(C))
        }
    }
}
