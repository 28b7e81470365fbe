import Foundation

// Two GELUs (Hendrycks & Gimpel 2016), named apart because they differ by up to 2·10⁻⁴ (at
// |x| ≈ 2): `geluErf`, the exact form (PyTorch's default, the networks' `gelu` layer), and
// `geluTanh`, the tanh approximation of GPT-2 (the meta-learner's MLPs).

/// The exact GELU, `gelu(x) = x Φ(x) = ½ x (1 + erf(x/√2))` (PyTorch's `nn.GELU()`).
///
/// - Parameters:
///   - out: `(N)`; may be `inp` itself (in place).
///   - inp: `(N)`.
public func geluErfForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ N: Int) {
    for i in 0..<N { out[i] = 0.5 * inp[i] * (1 + erf(inp[i] * Float(0.5.squareRoot()))) }
}

/// Backward pass of `geluErfForward`; adds into `dinp`: `gelu′(x) = Φ(x) + x φ(x)`, with
/// `Φ(x) = ½(1 + erf(x/√2))` and `φ(x) = e^{−x²/2}/√(2π)`.
///
/// - Parameters:
///   - dinp: `(N)`.
///   - inp: `(N)`, the forward input.
///   - dout: `(N)`.
public func geluErfBackward(
    _ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ N: Int
) {
    let inverseSqrt2 = Float(0.5.squareRoot())
    let inverseSqrt2Pi = Float(1 / (2 * Double.pi).squareRoot())
    for i in 0..<N {
        let x = inp[i]
        let cdf = 0.5 * (1 + erf(x * inverseSqrt2))
        let pdf = inverseSqrt2Pi * exp(-0.5 * x * x)
        dinp[i] += dout[i] * (cdf + x * pdf)
    }
}

/// The tanh approximation of GELU used by GPT-2:
/// `gelu(x) = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))` (PyTorch's `approximate="tanh"`), with
/// `tanh` computed from one exponential (`fastTanh`).
///
/// - Parameters:
///   - out: `(N)`.
///   - inp: `(N)`.
public func geluTanhForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ N: Int) {
    let scaling = (2 / Float.pi).squareRoot()
    for i in 0..<N {
        let x = inp[i]
        let cube = 0.044715 * x * x * x
        out[i] = 0.5 * x * (1 + fastTanh(scaling * (x + cube)))
    }
}

/// `tanh u = 1 − 2/(e^{2u} + 1)`: one `expf` instead of glibc's `tanhf` (which calls `expm1f` and
/// was 40 % of a training step), within about 1e−7 absolute; saturates to ±1 for large `|u|`.
@inline(__always)
func fastTanh(_ u: Float) -> Float {
    1 - 2 / (exp(2 * u) + 1)
}

/// Backward pass of `geluTanhForward`; adds into `dinp`.
///
/// With `u = √(2/π)(x + 0.044715 x³)`:
/// `gelu′(x) = ½(1 + tanh u) + ½ x sech²(u) √(2/π)(1 + 3·0.044715 x²)`.
///
/// - Parameters:
///   - dinp: `(N)`.
///   - inp: `(N)`, the forward input.
///   - dout: `(N)`.
public func geluTanhBackward(
    _ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ N: Int
) {
    let scaling = (2 / Float.pi).squareRoot()
    for i in 0..<N {
        let x = inp[i]
        let u = scaling * (x + 0.044715 * x * x * x)
        let t = fastTanh(u)
        let sech2 = 1 - t * t
        let local = 0.5 * (1 + t) + 0.5 * x * sech2 * scaling * (1 + 3 * 0.044715 * x * x)
        dinp[i] += local * dout[i]
    }
}
