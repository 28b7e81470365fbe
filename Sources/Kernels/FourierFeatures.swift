import Foundation

/// Deterministic Fourier features of raw position features (the positional encoding of NeRF,
/// Mildenhall et al. 2020; Tancik et al. 2020 on why they let MLPs learn high frequencies).
///
/// Each of the `F` raw features `x` (expected in about `[0, 1]`) becomes `1 + 2L` values:
/// `x, sin(2⁰πx), …, sin(2^{L−1}πx), cos(2⁰πx), …, cos(2^{L−1}πx)`, so
/// `out[n, f·(1+2L) + …]`. The frequencies are fixed powers of two, not random: the same features
/// on every rank, with no state to save. The inputs are data, so there is no backward pass.
///
/// - Parameters:
///   - out: `(N, F·(1+2L))`.
///   - inp: `(N, F)`.
///   - L: number of frequencies per feature.
public func fourierFeaturesForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ N: Int, _ F: Int, _ L: Int) {
    let width = 1 + 2 * L
    for n in 0 ..< N {
        for f in 0 ..< F {
            let x = inp[n * F + f]
            let o = out + (n * F + f) * width
            o[0] = x
            var frequency = Float.pi
            for l in 0 ..< L {
                o[1 + l] = sin(frequency * x)
                o[1 + L + l] = cos(frequency * x)
                frequency *= 2
            }
        }
    }
}
