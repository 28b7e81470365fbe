/// Layer normalisation (Ba, Kiros & Hinton 2016) over the last axis, PyTorch's `nn.LayerNorm`.
///
/// For each row `x` of `C` values: `μ = mean(x)`, `σ² = mean((x − μ)²)` (biased),
/// `rstd = 1/√(σ² + ε)` with `ε = 1e−5`, `out = (x − μ) · rstd · weight + bias`.
/// `mean` and `rstd` are cached for the backward pass.
///
/// - Parameters:
///   - out: `(B, C)`.
///   - mean: `(B)`, written.
///   - rstd: `(B)`, written.
///   - inp: `(B, C)`.
///   - weight: `(C)`.
///   - bias: `(C)`.
public func layerNormForward(
    _ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
    _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ B: Int, _ C: Int
) {
    let eps: Float = 1e-5
    for b in 0..<B {
        let x = inp + b * C
        var m: Float = 0
        for i in 0..<C { m += x[i] }
        m /= Float(C)
        var variance: Float = 0
        for i in 0..<C {
            let shifted = x[i] - m
            variance += shifted * shifted
        }
        variance /= Float(C)
        let s = 1 / (variance + eps).squareRoot()
        let y = out + b * C
        for i in 0..<C { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
        mean[b] = m
        rstd[b] = s
    }
}

/// Backward pass of `layerNormForward`; adds into the gradients.
///
/// With `n̂ = (x − μ)·rstd` and `g = weight ⊙ dout`:
/// `dx = rstd · (g − mean(g) − n̂ · mean(g ⊙ n̂))`, `dweight += dout ⊙ n̂`, `dbias += dout`.
///
/// - Parameters:
///   - dinp: `(B, C)`.
///   - dweight: `(C)`.
///   - dbias: `(C)`.
///   - dout: `(B, C)`.
///   - inp: `(B, C)`, the forward input.
///   - weight: `(C)`.
///   - mean: `(B)` and `rstd`: `(B)`, from the forward pass.
public func layerNormBackward(
    _ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>,
    _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
    _ B: Int, _ C: Int
) {
    for b in 0..<B {
        let x = inp + b * C
        let dy = dout + b * C
        let dx = dinp + b * C
        let m = mean[b]
        let s = rstd[b]
        var gMean: Float = 0
        var gNormMean: Float = 0
        for i in 0..<C {
            let norm = (x[i] - m) * s
            let g = weight[i] * dy[i]
            gMean += g
            gNormMean += g * norm
        }
        gMean /= Float(C)
        gNormMean /= Float(C)
        for i in 0..<C {
            let norm = (x[i] - m) * s
            let g = weight[i] * dy[i]
            dbias[i] += dy[i]
            dweight[i] += norm * dy[i]
            dx[i] += (g - gMean - norm * gNormMean) * s
        }
    }
}
