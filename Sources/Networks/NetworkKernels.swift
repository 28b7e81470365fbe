import CBLAS
import Foundation
import Kernels

/// The layer kernels of the evolved networks: forward/backward pairs on flat float32 buffers.
///
/// Shape letters as in docs/architecture.md's glossary: `B` = samples, `C`/`OC` = input/output
/// channels, `H`/`W` = input height/width, `OH`/`OW` = output height/width, `KS` = kernel size
/// (square), `F` = features of a sample, `G` = genomes stacked in one GEMM.
/// Row strides (`ld…`) let a kernel read or write one genome's rows inside a buffer shared by
/// several genomes. Backward kernels *add* into their gradients.
enum NetworkKernels {
    // MARK: - Bias and activation after `linearForward`

    /// `out[n, :] = f(out[n, :] + bias)` row by row (each row is still in cache for the
    /// activation); `bias` nil adds nothing, `activation` nil (or not element-wise) applies none.
    ///
    /// out is (B, F) with row stride ldOut.
    static func biasActivationForward(
        _ out: UnsafeMutablePointer<Float>, ldOut: Int, _ bias: UnsafePointer<Float>?,
        B: Int, F: Int, activation: Activation?
    ) {
        let elementwise = activation.flatMap { $0.isElementwise ? $0 : nil }
        guard bias != nil || elementwise != nil else { return }
        for n in 0..<B {
            let row = out + n * ldOut
            if let bias, elementwise == .relu {
                // The common case in one vectorisable loop.
                for o in 0..<F {
                    let value = row[o] + bias[o]
                    row[o] = value > 0 ? value : 0
                }
                continue
            }
            if let bias {
                for o in 0..<F { row[o] += bias[o] }
            }
            if let elementwise { activationInPlace(row, F: F, elementwise) }
        }
    }

    /// `out[r, :] = f(out[r, :] + bias[r])` for feature-major activations: each of `rows` rows
    /// holds one feature of `length` samples, so the bias is one value per row and the pass over a
    /// row is a contiguous, vectorisable loop. `bias` nil adds nothing, `activation` nil applies none.
    ///
    /// out is (rows, length), bias is (rows).
    static func rowBiasActivationForward(
        _ out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, length: Int, activation: Activation?
    ) {
        guard let bias else {
            if let activation { activationInPlace(out, F: rows * length, activation) }
            return
        }
        for r in 0..<rows {
            let row = out + r * length
            let b = bias[r]
            if activation == .relu {
                for i in 0..<length {
                    let value = row[i] + b
                    row[i] = value > 0 ? value : 0
                }
            } else {
                for i in 0..<length { row[i] += b }
                if let activation { activationInPlace(row, F: length, activation) }
            }
        }
    }

    // MARK: - Conv2d via im2col

    /// Unfolds B samples into columns: `col[(c·KS + i)·KS + j, n·OH·OW + y·OW + x] =
    /// inp[n, c, y·stride − pad + i, x·stride − pad + j]` (zero outside the image).
    ///
    /// inp holds B samples of (C, H, W), sample n at `inp + n·sampleStride`; col is
    /// (C·KS·KS, B·OH·OW), so the convolution of all B samples is one GEMM `weight · col`.
    static func im2col(
        _ col: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, sampleStride: Int,
        B: Int, C: Int, H: Int, W: Int, KS: Int, stride: Int, pad: Int, OH: Int, OW: Int
    ) {
        let columns = B * OH * OW
        for c in 0..<C {
            for i in 0..<KS {
                for j in 0..<KS {
                    let colRow = col + ((c * KS + i) * KS + j) * columns
                    for n in 0..<B {
                        let image = inp + n * sampleStride + c * H * W
                        let dst = colRow + n * OH * OW
                        for y in 0..<OH {
                            let row = y * stride - pad + i
                            let dstRow = dst + y * OW
                            if row < 0 || row >= H {
                                for x in 0..<OW { dstRow[x] = 0 }
                                continue
                            }
                            // Columns x·stride − pad + j inside the image: x in lo ..< hi.
                            let (lo, hi) = validRange(OW: OW, W: W, offset: j - pad, stride: stride)
                            for x in 0..<lo { dstRow[x] = 0 }
                            let src = image + row * W + (j - pad)
                            if stride == 1 {
                                if hi > lo { (dstRow + lo).update(from: src + lo, count: hi - lo) }
                            } else {
                                for x in lo..<hi { dstRow[x] = src[x * stride] }
                            }
                            for x in hi..<OW { dstRow[x] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// The output columns `x` in `lo ..< hi` whose input column `x·stride + offset` lies in
    /// `0 ..< W` (an empty range when none does).
    @inline(__always)
    static func validRange(OW: Int, W: Int, offset: Int, stride: Int) -> (Int, Int) {
        // x·stride + offset ≥ 0  ⇔  x ≥ ⌈−offset / stride⌉;  x·stride + offset ≤ W − 1  ⇔  x ≤ ⌊(W − 1 − offset) / stride⌋.
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = W - 1 - offset
        let hi = last < 0 ? 0 : Swift.min(OW, last / stride + 1)
        return (Swift.min(lo, hi), hi)
    }

    /// The adjoint of `im2col`: adds every column entry back onto the input position it came from.
    static func col2imAdd(
        _ dinp: UnsafeMutablePointer<Float>, sampleStride: Int, _ dcol: UnsafePointer<Float>,
        B: Int, C: Int, H: Int, W: Int, KS: Int, stride: Int, pad: Int, OH: Int, OW: Int
    ) {
        let columns = B * OH * OW
        for c in 0..<C {
            for i in 0..<KS {
                for j in 0..<KS {
                    let colRow = dcol + ((c * KS + i) * KS + j) * columns
                    for n in 0..<B {
                        let image = dinp + n * sampleStride + c * H * W
                        let src = colRow + n * OH * OW
                        for y in 0..<OH {
                            let row = y * stride - pad + i
                            if row < 0 || row >= H { continue }
                            let dst = image + row * W
                            let srcRow = src + y * OW
                            for x in 0..<OW {
                                let column = x * stride - pad + j
                                if column >= 0 && column < W { dst[column] += srcRow[x] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `out[g][n, o, :, :] = bias[g·OC + o] + Σ_c weight[g·OC + o, c] ⋆ inp[n, c]` (PyTorch's
    /// `nn.Conv2d`, a cross-correlation) for B samples whose columns are already in `col`, and for
    /// G genomes whose weights are stacked (G = 1 for one genome).
    ///
    /// col is (C·KS·KS, B·OH·OW) from `im2col`, weight is (G·OC, C·KS·KS), bias is (G·OC), product is
    /// scratch of (G·OC, B·OH·OW); out holds for genome g and sample n an (OC, OH, OW) block at
    /// `out + g·genomeStride + n·sampleStride`. One GEMM `weight · col`, then a scatter that adds
    /// the bias and applies the optional element-wise activation.
    ///
    /// With `pool` (kernel, stride, pooled height PH and width PW) the scatter max-pools each
    /// channel of the product first and writes (OC, PH, PW) blocks:
    /// `out = f(maxpool(weight · col) + bias)`, which equals `maxpool(f(weight · col + bias))` for a
    /// non-decreasing `f` (relu, tanh, sigmoid; the caller checks).
    static func convForward(
        _ out: UnsafeMutablePointer<Float>, sampleStride: Int, genomeStride: Int,
        _ product: UnsafeMutablePointer<Float>,
        _ col: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        B: Int, G: Int, OC: Int, columnLength: Int, OH: Int, OW: Int, activation: Activation? = nil,
        pool: (kernel: Int, stride: Int, height: Int, width: Int)? = nil
    ) {
        let OHW = OH * OW
        let columns = B * OHW
        let elementwise = activation.flatMap { $0.isElementwise ? $0 : nil }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(G * OC), Int32(columns), Int32(columnLength),
            1, weight, Int32(columnLength), col, Int32(columns), 0, product, Int32(columns))
        if let pool {
            let PHW = pool.height * pool.width
            for g in 0..<G {
                for o in 0..<OC {
                    // Channel o of every sample: B planes of (OH, OW) one after the other.
                    let plane = product + (g * OC + o) * columns
                    let b = bias[g * OC + o]
                    for n in 0..<B {
                        let dst = out + g * genomeStride + n * sampleStride + o * PHW
                        maxPoolForward(
                            dst, outStride: 0, plane + n * OHW, inStride: 0, N: 1, C: 1, H: OH, W: OW,
                            K: pool.kernel, stride: pool.stride, OH: pool.height, OW: pool.width)
                        if elementwise == .relu {
                            for k in 0..<PHW {
                                let value = dst[k] + b
                                dst[k] = value > 0 ? value : 0
                            }
                        } else {
                            for k in 0..<PHW { dst[k] += b }
                            if let elementwise { activationInPlace(dst, F: PHW, elementwise) }
                        }
                    }
                }
            }
            return
        }
        for g in 0..<G {
            for n in 0..<B {
                for o in 0..<OC {
                    let src = product + (g * OC + o) * columns + n * OHW
                    let dst = out + g * genomeStride + n * sampleStride + o * OHW
                    let b = bias[g * OC + o]
                    if elementwise == .relu {
                        for k in 0..<OHW {
                            let value = src[k] + b
                            dst[k] = value > 0 ? value : 0
                        }
                    } else {
                        for k in 0..<OHW { dst[k] = src[k] + b }
                        if let elementwise { activationInPlace(dst, F: OHW, elementwise) }
                    }
                }
            }
        }
    }

    /// Backward of `convForward` for B samples of contiguous (OC, OH, OW) gradients.
    ///
    /// Gathers dout into `product` (OC, B·OH·OW); adds `dweight += product · colᵀ` and
    /// `dbias[o] += Σ product[o, :]`; if `dcol` is given, sets `dcol = weightᵀ · product`
    /// (the caller scatters it with `col2imAdd`).
    static func convBackward(
        _ dcol: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>,
        _ dbias: UnsafeMutablePointer<Float>,
        _ product: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
        _ col: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        B: Int, OC: Int, columnLength: Int, OHW: Int
    ) {
        let columns = B * OHW
        for n in 0..<B {
            for o in 0..<OC {
                let src = dout + (n * OC + o) * OHW
                let dst = product + o * columns + n * OHW
                for k in 0..<OHW { dst[k] = src[k] }
            }
        }
        for o in 0..<OC {
            let row = product + o * columns
            var sum: Float = 0
            for k in 0..<columns { sum += row[k] }
            dbias[o] += sum
        }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(OC), Int32(columnLength), Int32(columns),
            1, product, Int32(columns), col, Int32(columns), 1, dweight, Int32(columnLength))
        if let dcol {
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasNoTrans, Int32(columnLength), Int32(columns), Int32(OC),
                1, weight, Int32(columnLength), product, Int32(columns), 0, dcol, Int32(columns))
        }
    }

    // MARK: - MaxPool2d

    /// `out[n, c, y, x] = max_{0 ≤ i, j < K} inp[n, c, y·stride + i, x·stride + j]` (PyTorch's
    /// `nn.MaxPool2d(K, stride)`, no padding); a NaN in a window makes its maximum NaN, as in PyTorch.
    ///
    /// inp holds N samples of (C, H, W), sample n at `inp + n·inStride`; out holds N samples of
    /// (C, OH, OW) at `out + n·outStride`.
    static func maxPoolForward(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ inp: UnsafePointer<Float>, inStride: Int,
        N: Int, C: Int, H: Int, W: Int, K: Int, stride: Int, OH: Int, OW: Int
    ) {
        for n in 0..<N {
            for c in 0..<C {
                let image = inp + n * inStride + c * H * W
                let pooled = out + n * outStride + c * OH * OW
                for y in 0..<OH {
                    let dst = pooled + y * OW
                    let top = image + y * stride * W
                    if K == 2 && stride == 2 {
                        // The common case: 2×2 windows side by side.
                        let bottom = top + W
                        for x in 0..<OW {
                            let a = top[2 * x]
                            let b = top[2 * x + 1]
                            let c = bottom[2 * x]
                            let d = bottom[2 * x + 1]
                            let ab = a > b || a != a ? a : b
                            let cd = c > d || c != c ? c : d
                            dst[x] = ab > cd || ab != ab ? ab : cd
                        }
                        continue
                    }
                    for x in 0..<OW { dst[x] = top[x * stride] }
                    for i in 0..<K {
                        let row = top + i * W
                        for j in 0..<K where i + j > 0 {
                            for x in 0..<OW {
                                let v = row[x * stride + j]
                                dst[x] = v > dst[x] || v != v ? v : dst[x]
                            }
                        }
                    }
                }
            }
        }
    }

    /// Backward of `maxPoolForward` for N contiguous samples: adds `dout[n, c, y, x]` to the input
    /// position of the window's maximum (the first in row-major order on a tie, a NaN if any,
    /// the position the forward pass took), `dinp += Σ dout·[x = argmax]`.
    ///
    /// dinp and inp are (N, C, H, W), dout is (N, C, OH, OW).
    static func maxPoolBackward(
        _ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
        N: Int, C: Int, H: Int, W: Int, K: Int, stride: Int, OH: Int, OW: Int
    ) {
        for plane in 0..<(N * C) {
            let image = inp + plane * H * W
            let dimage = dinp + plane * H * W
            let grad = dout + plane * OH * OW
            for y in 0..<OH {
                for x in 0..<OW {
                    let first = y * stride * W + x * stride
                    var best = image[first]
                    var at = first
                    for i in 0..<K {
                        for j in 0..<K {
                            let k = first + i * W + j
                            if image[k] > best || (image[k].isNaN && !best.isNaN) {
                                best = image[k]
                                at = k
                            }
                        }
                    }
                    dimage[at] += grad[y * OW + x]
                }
            }
        }
    }

    // MARK: - Activations

    /// `out = f(inp)` for one sample of F values (out may equal inp).
    ///
    /// relu `max(0, x)`; tanh; sigmoid `1/(1 + e^{−x})`; gelu `½x(1 + erf(x/√2))` (Kernels'
    /// `geluErfForward`); softmax `e^{xᵢ − m} / Σⱼ e^{xⱼ − m}` and log_softmax
    /// `xᵢ − m − log Σⱼ e^{xⱼ − m}` with `m = maxⱼ xⱼ` (Kernels' `softmaxForward` and
    /// `logSoftmaxForward`, exponentials by `fastExpNonPositive`).
    static func activationForward(
        _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, F: Int, _ activation: Activation
    ) {
        if UnsafePointer(out) != inp { out.update(from: inp, count: F) }
        activationInPlace(out, F: F, activation)
    }

    /// `values = f(values)` for one sample of F values (or, for element-wise activations, any
    /// number of values). One pointer, so the loops vectorise without aliasing checks.
    static func activationInPlace(_ values: UnsafeMutablePointer<Float>, F: Int, _ activation: Activation) {
        switch activation {
        case .relu:
            for k in 0..<F {
                let value = values[k]
                values[k] = value > 0 ? value : 0
            }
        case .tanh:
            for k in 0..<F { values[k] = Foundation.tanh(values[k]) }
        case .sigmoid:
            for k in 0..<F { values[k] = 1 / (1 + Foundation.exp(-values[k])) }
        case .gelu:
            geluErfForward(values, values, F)
        case .softmax:
            softmaxForward(values, values, 1, F)
        case .logSoftmax:
            logSoftmaxForward(values, values, 1, F)
        }
    }

    /// Backward of `activationForward` for one sample: adds `dinp += J_fᵀ · dout`.
    ///
    /// relu `dout·[x > 0]`; tanh `dout·(1 − y²)`; sigmoid `dout·y(1 − y)`; gelu
    /// `dout·(Φ(x) + x·φ(x))`; softmax `yᵢ(doutᵢ − Σⱼ doutⱼ yⱼ)`; log_softmax
    /// `doutᵢ − e^{yᵢ} Σⱼ doutⱼ`. inp is the layer's input x, out its output y.
    static func activationBackward(
        _ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
        _ inp: UnsafePointer<Float>, _ out: UnsafePointer<Float>, F: Int, _ activation: Activation
    ) {
        switch activation {
        case .relu:
            for k in 0..<F where inp[k] > 0 { dinp[k] += dout[k] }
        case .tanh:
            for k in 0..<F { dinp[k] += dout[k] * (1 - out[k] * out[k]) }
        case .sigmoid:
            for k in 0..<F { dinp[k] += dout[k] * out[k] * (1 - out[k]) }
        case .gelu:
            geluErfBackward(dinp, inp, dout, F)
        case .softmax:
            softmaxBackward(dinp, dout, out, 1, F)
        case .logSoftmax:
            logSoftmaxBackward(dinp, dout, out, 1, F)
        }
    }
}
