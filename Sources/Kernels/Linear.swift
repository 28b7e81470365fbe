import CBLAS

// Shape letters: see the glossary in docs/architecture.md (B = batch rows, C = channels, OC = output
// channels, …); every kernel in this module uses them.

/// Fully connected layer, PyTorch's `nn.Linear`: `out = inp · weightᵀ + bias`, the one linear
/// kernel of every module (the meta-learner's layers, the evolved networks' `linear` layers).
///
/// One `cblas_sgemm` call. With a bias, the rows of `out` are first set to it and the product is
/// added (`β = 1`); with `bias == nil` the product is written (`β = 0`), which is how the networks
/// call it before their fused bias-and-activation pass. Row strides let the rows of `out` and
/// `inp` sit inside wider buffers (one genome's rows among several genomes').
///
/// - Parameters:
///   - out: `(B, OC)` with row stride `ldOut` (default `OC`), overwritten.
///   - inp: `(B, C)` with row stride `ldInp` (default `C`).
///   - weight: `(OC, C)`, PyTorch's layout.
///   - bias: `(OC)` or `nil`.
public func linearForward(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ B: Int, _ C: Int, _ OC: Int, ldOut: Int? = nil, ldInp: Int? = nil
) {
    // out is (B,OC), inp is (B,C), weight is (OC,C), bias is (OC)
    guard B > 0, OC > 0 else { return }
    let ldOut = ldOut ?? OC
    let ldInp = ldInp ?? C
    var beta: Float = 0
    if let bias {
        for b in 0..<B { (out + b * ldOut).update(from: bias, count: OC) }
        beta = 1
    }
    guard C > 0 else {
        if bias == nil {
            for b in 0..<B { (out + b * ldOut).update(repeating: 0, count: OC) }
        }
        return
    }
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(B), Int32(OC), Int32(C),
        1, inp, Int32(ldInp), weight, Int32(C), beta, out, Int32(ldOut))
}

/// Backward pass of `linearForward` for contiguous rows; adds into the gradients.
///
/// `dinp += dout · weight`, `dweight += doutᵀ · inp`, `dbias += Σ_rows dout`.
///
/// - Parameters:
///   - dinp: `(B, C)` or `nil` when the input is data and needs no gradient.
///   - dweight: `(OC, C)`.
///   - dbias: `(OC)` or `nil` for a layer without bias.
///   - dout: `(B, OC)`.
///   - inp: `(B, C)`, the forward input.
///   - weight: `(OC, C)`.
public func linearBackward(
    _ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>,
    _ dbias: UnsafeMutablePointer<Float>?,
    _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ B: Int, _ C: Int, _ OC: Int
) {
    guard B > 0, OC > 0 else { return }
    if C > 0 {
        if let dinp {
            // dinp (B,C) += dout (B,OC) · weight (OC,C)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(B), Int32(C), Int32(OC),
                1, dout, Int32(OC), weight, Int32(C), 1, dinp, Int32(C))
        }
        // dweight (OC,C) += doutᵀ (OC,B) · inp (B,C)
        cblas_sgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(OC), Int32(C), Int32(B),
            1, dout, Int32(OC), inp, Int32(C), 1, dweight, Int32(C))
    }
    if let dbias {
        for b in 0..<B {
            let row = dout + b * OC
            for o in 0..<OC { dbias[o] += row[o] }
        }
    }
}
