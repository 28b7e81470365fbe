import Foundation

/// Row-wise softmax, the one every module uses (attention, the networks' `softmax` layer):
/// `probs[r, j] = exp(logits[r, j] − m_r) / Σ_k exp(logits[r, k] − m_r)`, `m_r = max_k logits[r, k]`.
///
/// With a `mask`, entries with `mask[j] == 0` are left out of the maximum and the sum and get
/// probability exactly 0 (attention's padded keys, i.e. a score of `−∞`); a row whose entries are
/// all masked is all zeros. Every argument of the exponential is `≤ 0`, so it is
/// `fastExpNonPositive` (within 2·10⁻⁷ relative of `exp`). A NaN in a row makes the row NaN.
///
/// - Parameters:
///   - probs: `(B, V)`; may be `logits` itself (in place).
///   - logits: `(B, V)`.
///   - mask: `(V)`, shared by all `B` rows: 1 for an entry that counts, 0 for one left out; `nil`
///     when every entry counts.
public func softmaxForward(
    _ probs: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, _ B: Int, _ V: Int,
    mask: UnsafePointer<Float>? = nil
) {
    // probs is (B,V), logits is (B,V), mask is (V)
    for r in 0..<B {
        let x = logits + r * V
        let p = probs + r * V
        var maximum = -Float.infinity
        var sum: Float = 0
        if let mask {
            for j in 0..<V where mask[j] != 0 { maximum = max(maximum, x[j]) }
            guard maximum > -Float.infinity else {
                p.update(repeating: 0, count: V)
                continue
            }
            for j in 0..<V {
                let e = mask[j] == 0 ? 0 : fastExpNonPositive(x[j] - maximum)
                p[j] = e
                sum += e
            }
        } else {
            for j in 0..<V { maximum = max(maximum, x[j]) }
            for j in 0..<V {
                p[j] = fastExpNonPositive(x[j] - maximum)
                sum += p[j]
            }
        }
        let inverse = 1 / sum
        for j in 0..<V { p[j] *= inverse }
    }
}

/// Backward pass of `softmaxForward`; adds into `dlogits`.
///
/// `dlogits[r, j] += p[r, j] · (dprobs[r, j] − Σ_k p[r, k] dprobs[r, k])` (masked entries have
/// `p = 0` and so get no gradient).
///
/// - Parameters:
///   - dlogits: `(B, V)`.
///   - dprobs: `(B, V)`.
///   - probs: `(B, V)`, the forward output.
public func softmaxBackward(
    _ dlogits: UnsafeMutablePointer<Float>, _ dprobs: UnsafePointer<Float>, _ probs: UnsafePointer<Float>,
    _ B: Int, _ V: Int
) {
    for r in 0..<B {
        let p = probs + r * V
        let dp = dprobs + r * V
        var dot: Float = 0
        for j in 0..<V { dot += p[j] * dp[j] }
        let dx = dlogits + r * V
        for j in 0..<V { dx[j] += p[j] * (dp[j] - dot) }
    }
}

/// Row-wise log-softmax: `out[r, j] = logits[r, j] − m_r − log Σ_k exp(logits[r, k] − m_r)`,
/// `m_r = max_k logits[r, k]`, the exponentials by `fastExpNonPositive` as in `softmaxForward`.
///
/// - Parameters:
///   - out: `(B, V)`; may be `logits` itself (in place).
///   - logits: `(B, V)`.
public func logSoftmaxForward(_ out: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, _ B: Int, _ V: Int) {
    // out is (B,V), logits is (B,V)
    for r in 0..<B {
        let x = logits + r * V
        let y = out + r * V
        var maximum = -Float.infinity
        for j in 0..<V { maximum = max(maximum, x[j]) }
        var sum: Float = 0
        for j in 0..<V { sum += fastExpNonPositive(x[j] - maximum) }
        let shift = maximum + log(sum)
        for j in 0..<V { y[j] = x[j] - shift }
    }
}

/// Backward pass of `logSoftmaxForward`; adds into `dlogits`:
/// `dlogits[r, j] += dout[r, j] − exp(out[r, j]) · Σ_k dout[r, k]`.
///
/// - Parameters:
///   - dlogits: `(B, V)`.
///   - dout: `(B, V)`.
///   - out: `(B, V)`, the forward output (log-probabilities, `≤ 0`).
public func logSoftmaxBackward(
    _ dlogits: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ B: Int,
    _ V: Int
) {
    for r in 0..<B {
        let y = out + r * V
        let dy = dout + r * V
        let dx = dlogits + r * V
        var sum: Float = 0
        for j in 0..<V { sum += dy[j] }
        for j in 0..<V { dx[j] += dy[j] - fastExpNonPositive(y[j]) * sum }
    }
}
