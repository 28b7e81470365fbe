import Foundation

/// Row-wise softmax: `probs[r, j] = exp(logits[r, j] − max_r) / Σ_k exp(logits[r, k] − max_r)`.
///
/// - Parameters:
///   - probs: `(N, V)`.
///   - logits: `(N, V)`.
public func softmaxForward(_ probs: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, _ N: Int, _ V: Int) {
    for r in 0 ..< N {
        let x = logits + r * V
        let p = probs + r * V
        var maximum = -Float.infinity
        for j in 0 ..< V { maximum = max(maximum, x[j]) }
        var sum: Float = 0
        for j in 0 ..< V {
            p[j] = exp(x[j] - maximum)
            sum += p[j]
        }
        let inverse = 1 / sum
        for j in 0 ..< V { p[j] *= inverse }
    }
}

/// Backward pass of `softmaxForward`; adds into `dlogits`.
///
/// `dlogits[r, j] += p[r, j] · (dprobs[r, j] − Σ_k p[r, k] dprobs[r, k])`.
///
/// - Parameters:
///   - dlogits: `(N, V)`.
///   - dprobs: `(N, V)`.
///   - probs: `(N, V)`, the forward output.
public func softmaxBackward(
    _ dlogits: UnsafeMutablePointer<Float>, _ dprobs: UnsafePointer<Float>, _ probs: UnsafePointer<Float>,
    _ N: Int, _ V: Int
) {
    for r in 0 ..< N {
        let p = probs + r * V
        let dp = dprobs + r * V
        var dot: Float = 0
        for j in 0 ..< V { dot += p[j] * dp[j] }
        let dx = dlogits + r * V
        for j in 0 ..< V { dx[j] += p[j] * (dp[j] - dot) }
    }
}
