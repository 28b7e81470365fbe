#if canImport(Glibc)
import Glibc
#endif

/// Direct convolution of one sample for the small channel counts of evolved networks, vectorised
/// with Swift SIMD types on contiguous rows (this module is compiled for AVX2 + FMA on x86-64:
/// `SIMD16<Float>` is two ymm registers, `addProduct` one `vfmadd231ps`).
///
/// C = input channels, H, W = input height and width, OC = output channels, K = kernel size,
/// p = padding, stride 1: OH = H + 2p − K + 1, OW = W + 2p − K + 1.
///
/// `out[o, y, x] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] · in[c, y + i − p, x + j − p]`
/// (PyTorch's `nn.Conv2d`, a cross-correlation; zero outside the image), the sum taken in the
/// order c, i, j from 0 in float32 with fused multiply-adds, the bias added last. The input is
/// first copied into a zero-bordered plane of `paddedHeight × paddedWidth` per channel (`pad`),
/// so every load is an unaligned vector load of a contiguous row.
///
/// The register tile is 2 output channels × 2 output rows × 16 output columns (8 accumulators of
/// 8 floats); each step of the (c, i, j) loop loads two 16-column input rows and two weights
/// and issues 8 FMAs. Rows are padded to a multiple of 16 columns, so OW = 28 (EvoJAX's conv1)
/// or 14 (its conv2) waste 4/32 and 2/16 of the lanes. With `pool` (2×2 windows, stride 2,
/// floor) the two rows and the even and odd columns of the tile are max-ed before bias and
/// activation, `out = f(maxpool(Σ) + bias)`, equal to `maxpool(f(Σ + bias))` for the
/// non-decreasing `f` used here (identity or relu); full-size outputs are never written.
/// A NaN in a pooling window gives NaN, as in PyTorch; relu maps NaN to 0, as
/// `NetworkKernels.activationInPlace` does.
public enum DirectConvolution {
    /// Whether this CPU runs the module's code: AVX2 and FMA on x86-64 (read from
    /// /proc/cpuinfo on Linux; false where it cannot be read), always on other architectures.
    public static let isSupported: Bool = {
        #if arch(x86_64)
        #if os(Linux)
        guard let file = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            guard text.hasPrefix("flags") else { continue }
            let words = Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }))
            return words.contains("avx2") && words.contains("fma")
        }
        return false
        #else
        return false
        #endif
        #else
        return true
        #endif
    }()

    /// Output columns per vector tile.
    public static let tileColumns = 16

    /// Columns of a padded plane: the output width rounded up to a whole tile, plus K − 1.
    public static func paddedWidth(OW: Int, K: Int) -> Int {
        (OW + tileColumns - 1) / tileColumns * tileColumns + K - 1
    }

    /// Rows of a padded plane: H + 2p, plus one zero row so an odd OH still runs in row pairs.
    public static func paddedHeight(H: Int, pad: Int) -> Int { H + 2 * pad + 1 }

    /// Copies one sample's (C, H, W) input into the interior of its padded planes, each
    /// `paddedHeight × paddedWidth`, at row and column offset `pad`. The borders are not written:
    /// zero them once before the first sample (`padded.update(repeating: 0, …)`).
    public static func pad(
        _ padded: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, C: Int, H: Int, W: Int, pad: Int,
        paddedHeight Hp: Int, paddedWidth Wp: Int
    ) {
        for c in 0..<C {
            let plane = padded + c * Hp * Wp + pad * Wp + pad
            let image = inp + c * H * W
            for y in 0..<H { (plane + y * Wp).update(from: image + y * W, count: W) }
        }
    }

    /// One sample's convolution from its padded planes, with bias, optional relu and optional 2×2
    /// max-pool (stride 2).
    ///
    /// padded is (C, Hp, Wp) from `pad`, weight is (OC, C, K, K), bias is (OC); out is (OC, OH, OW),
    /// or (OC, ⌊OH/2⌋, ⌊OW/2⌋) with `pool`.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ padded: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, C: Int, paddedHeight Hp: Int, paddedWidth Wp: Int, OC: Int, K: Int, OH: Int, OW: Int,
        relu: Bool, pool: Bool
    ) {
        // A constant K lets the compiler unroll the kernel row.
        switch K {
        case 3:
            forwardBody(out, padded, weight, bias, C: C, Hp: Hp, Wp: Wp, OC: OC, K: 3, OH: OH, OW: OW, relu: relu, pool: pool)
        case 5:
            forwardBody(out, padded, weight, bias, C: C, Hp: Hp, Wp: Wp, OC: OC, K: 5, OH: OH, OW: OW, relu: relu, pool: pool)
        default:
            forwardBody(out, padded, weight, bias, C: C, Hp: Hp, Wp: Wp, OC: OC, K: K, OH: OH, OW: OW, relu: relu, pool: pool)
        }
    }

    @inline(__always)
    static func forwardBody(
        _ out: UnsafeMutablePointer<Float>, _ padded: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, C: Int, Hp: Int, Wp: Int, OC: Int, K: Int, OH: Int, OW: Int, relu: Bool, pool: Bool
    ) {
        let filter = C * K * K
        let (PH, PW) = (OH / 2, OW / 2)
        let rowPairs = pool ? PH : (OH + 1) / 2
        for o0 in stride(from: 0, to: OC, by: 2) {
            // An odd last channel runs twice in the same tile; its copy is not stored.
            let o1 = min(o0 + 1, OC - 1)
            let w0 = weight + o0 * filter, w1 = weight + o1 * filter
            let b0 = bias[o0], b1 = bias[o1]
            for t in 0..<rowPairs {
                let y = 2 * t
                for x0 in stride(from: 0, to: OW, by: tileColumns) {
                    var (a00, a01, a10, a11) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                    var u = w0, v = w1
                    for c in 0..<C {
                        var row = padded + (c * Hp + y) * Wp + x0
                        for _ in 0..<K {
                            for j in 0..<K {
                                let top = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                                let bottom = UnsafeRawPointer(row + Wp + j).loadUnaligned(as: SIMD16<Float>.self)
                                let s = SIMD16<Float>(repeating: u[j]), r = SIMD16<Float>(repeating: v[j])
                                a00.addProduct(s, top)
                                a01.addProduct(s, bottom)
                                a10.addProduct(r, top)
                                a11.addProduct(r, bottom)
                            }
                            row += Wp
                            u += K
                            v += K
                        }
                    }
                    if pool {
                        let columns = min(tileColumns / 2, PW - x0 / 2)
                        let first = out + (o0 * PH + t) * PW + x0 / 2
                        // Written out rather than called: the compiler keeps a call otherwise.
                        let rows0 = maximum(a00, a01), rows1 = maximum(a10, a11)
                        var p0 = maximum(rows0.evenHalf, rows0.oddHalf) + SIMD8(repeating: b0)
                        var p1 = maximum(rows1.evenHalf, rows1.oddHalf) + SIMD8(repeating: b1)
                        if relu {
                            p0.replace(with: 0, where: .!(p0 .> 0))
                            p1.replace(with: 0, where: .!(p1 .> 0))
                        }
                        store(p0, to: first, count: columns)
                        if o1 != o0 { store(p1, to: first + PH * PW, count: columns) }
                    } else {
                        let columns = min(tileColumns, OW - x0)
                        let first = out + (o0 * OH + y) * OW + x0
                        let second = y + 1 < OH
                        store(activated(a00, bias: b0, relu: relu), to: first, count: columns)
                        if second { store(activated(a01, bias: b0, relu: relu), to: first + OW, count: columns) }
                        if o1 != o0 {
                            store(activated(a10, bias: b1, relu: relu), to: first + OH * OW, count: columns)
                            if second { store(activated(a11, bias: b1, relu: relu), to: first + OH * OW + OW, count: columns) }
                        }
                    }
                }
            }
        }
    }

    /// The larger of a and b lane by lane, NaN if either is NaN.
    @inline(__always)
    static func maximum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        a.replacing(with: b, where: (b .> a) .| (b .!= b))
    }

    @inline(__always)
    static func maximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a.replacing(with: b, where: (b .> a) .| (b .!= b))
    }

    @inline(__always)
    static func activated(_ sum: SIMD16<Float>, bias: Float, relu: Bool) -> SIMD16<Float> {
        let value = sum + SIMD16(repeating: bias)
        return relu ? value.replacing(with: 0, where: .!(value .> 0)) : value
    }

    /// Stores the first `count` lanes of `value` (all of them with one vector store when they fit).
    @inline(__always)
    static func store(_ value: SIMD16<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        if count == 16 {
            UnsafeMutableRawPointer(dst).storeBytes(of: value, as: SIMD16<Float>.self)
        } else {
            for lane in 0..<count { dst[lane] = value[lane] }
        }
    }

    @inline(__always)
    static func store(_ value: SIMD8<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        if count == 8 {
            UnsafeMutableRawPointer(dst).storeBytes(of: value, as: SIMD8<Float>.self)
        } else {
            for lane in 0..<count { dst[lane] = value[lane] }
        }
    }
}
