import Foundation

/// Deterministic Fourier features of raw position features (the positional encoding of NeRF,
/// Mildenhall et al. 2020; Tancik et al. 2020 on why they let MLPs learn high frequencies).
///
/// Each of the `F` raw features `x` (expected in about `[0, 1]`) becomes `1 + 2L` values:
/// `x, sin(2⁰πx), …, sin(2^{L−1}πx), cos(2⁰πx), …, cos(2^{L−1}πx)`, so
/// `out[n, f·(1+2L) + …]`. The frequencies are fixed powers of two, not random: the same features
/// on every rank, with no state to save. Each octave comes from the previous one by
/// `sin 2a = 2 sin a cos a`, `cos 2a = 1 − 2 sin²a` in Double (the error doubles with each octave: below 1e−9 for `L ≤ 20`), one
/// `sin` and one `cos` per feature. The inputs are data, so there is no backward pass.
///
/// - Parameters:
///   - out: `(B, F·(1+2L))`.
///   - inp: `(B, F)`.
///   - L: number of frequencies per feature.
public func fourierFeaturesForward(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ B: Int, _ F: Int, _ L: Int
) {
    let width = 1 + 2 * L
    for n in 0..<B {
        for f in 0..<F {
            let x = inp[n * F + f]
            let o = out + (n * F + f) * width
            o[0] = x
            // one sin/cos in Double, then the double-angle formulas for each next octave
            var s = sin(Double.pi * Double(x))
            var c = cos(Double.pi * Double(x))
            for l in 0..<L {
                o[1 + l] = Float(s)
                o[1 + L + l] = Float(c)
                (s, c) = (2 * s * c, 1 - 2 * s * s)
            }
        }
    }
}
