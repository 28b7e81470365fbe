/// Mean over the middle axis: `out[b, c] = (1/T) Σ_t inp[b, t, c]`.
///
/// - Parameters:
///   - out: `(B, C)`.
///   - inp: `(B, T, C)`.
public func meanPoolForward(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ B: Int, _ T: Int, _ C: Int
) {
    let scale = 1 / Float(T)
    for b in 0..<B {
        let o = out + b * C
        o.update(repeating: 0, count: C)
        for t in 0..<T {
            let x = inp + (b * T + t) * C
            for c in 0..<C { o[c] += x[c] }
        }
        for c in 0..<C { o[c] *= scale }
    }
}

/// Backward pass of `meanPoolForward`: `dinp[b, t, c] += dout[b, c] / T`.
///
/// - Parameters:
///   - dinp: `(B, T, C)`.
///   - dout: `(B, C)`.
public func meanPoolBackward(
    _ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ B: Int, _ T: Int, _ C: Int
) {
    let scale = 1 / Float(T)
    for b in 0..<B {
        let g = dout + b * C
        for t in 0..<T {
            let dx = dinp + (b * T + t) * C
            for c in 0..<C { dx[c] += g[c] * scale }
        }
    }
}
