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
/// first copied into zero-bordered planes (`pad`), so every load is an unaligned vector load of
/// contiguous floats.
///
/// The register tile is 2 output channels × 32 outputs (8 accumulators of 8 floats); each step of
/// the (c, i, j) loop loads two 16-float input vectors and two weights and issues 8 FMAs. A
/// `Plan` lays the 32 outputs out one of two ways, whichever its cost model says is faster:
///
/// - `rows`: 16 columns of two consecutive output rows, planes `W` padded to a multiple of 16
///   (+ K − 1). OW = 28 (EvoJAX's conv1) or 14 (its conv2) use 7/8 of the lanes. With `pool`
///   (2×2 windows, stride 2, floor) the two rows and the even and odd columns are max-ed in
///   registers before bias and activation, `out = f(maxpool(Σ) + bias)`, equal to
///   `maxpool(f(Σ + bias))` for the non-decreasing `f` used here (identity or relu); full-size
///   outputs are never written.
/// - `flat`: 32 consecutive outputs of the plane flattened with its padded width `W + 2p`, so
///   the `K − 1` columns past each row are computed and dropped; for narrow maps (OW = 11 of 13
///   or 7 of 9) that wastes less than rounding each row up to 16. The sums go to a per-sample
///   scratch, then one pass adds the bias, applies relu and pools.
///
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

    /// How one layer's sample runs: the layout of its tiles and the sizes of its buffers.
    public struct Plan: Equatable, Sendable {
        /// `rows`: tiles of 16 columns on two output rows, pooled in registers; `flat`: tiles of
        /// 32 consecutive outputs of the plane flattened with its padded width.
        public enum Layout: Sendable { case rows, flat }

        public let C: Int, H: Int, W: Int, OC: Int, K: Int, pad: Int, OH: Int, OW: Int
        public let layout: Layout
        /// Rows and columns of one padded plane.
        public let paddedHeight: Int, paddedWidth: Int
        /// Floats of one sample's padded planes (with the slack the last tiles read past them).
        public let paddedLength: Int
        /// Floats of the per-sample scratch of the flat layout (0 for rows).
        public let scratchLength: Int
        /// The share of the tiles' lanes that hold outputs.
        public let laneUse: Double

        /// The plan for a stride-1 layer; `layout` nil picks the faster one by a measured cost
        /// model. Rows use `u_r = OW / (16·⌈OW/16⌉)` of the lanes, flat
        /// `u_f = OH·OW / (32·⌈OH·(W + 2p)/32⌉)`; a tile costs its `C·K·K` FMA steps plus an
        /// epilogue worth about 6 steps for rows (pooled in registers) and 14 for flat (the scratch
        /// pass), fitted to `atoll bench evaluate`'s layer table (fashion-cnn conv1, 1→8 3×3 on
        /// 28×28: rows 41 % of sgemm, flat 31 %; 16→16 3×3 pad 1 on 7×7: rows 41 %, flat 54 %).
        /// Flat runs when `u_f / (C·K·K + 14) > u_r / (C·K·K + 6)`.
        public init(C: Int, H: Int, W: Int, OC: Int, K: Int, pad: Int, layout: Layout? = nil) {
            (self.C, self.H, self.W, self.OC, self.K, self.pad) = (C, H, W, OC, K, pad)
            (OH, OW) = (H + 2 * pad - K + 1, W + 2 * pad - K + 1)
            let rowsUse = Double(OW) / Double(Self.roundUp(OW, 16))
            let flatUse = Double(OH * OW) / Double(Self.roundUp(OH * (W + 2 * pad), 32))
            let steps = Double(C * K * K)
            self.layout = layout ?? (flatUse / (steps + 14) > rowsUse / (steps + 6) ? .flat : .rows)
            laneUse = self.layout == .flat ? flatUse : rowsUse
            switch self.layout {
            case .rows:
                // One more zero row so an odd OH still runs in row pairs.
                paddedHeight = H + 2 * pad + 1
                paddedWidth = Self.roundUp(OW, 16) + K - 1
                paddedLength = C * paddedHeight * paddedWidth
                scratchLength = 0
            case .flat:
                paddedHeight = H + 2 * pad
                paddedWidth = W + 2 * pad
                let span = Self.roundUp(OH * paddedWidth, 32)
                // The last tile of the last channel reads up to span + (K − 1)·(Wp + 1) floats in.
                paddedLength = (C - 1) * paddedHeight * paddedWidth + span + (K - 1) * (paddedWidth + 1)
                scratchLength = OC * span
            }
        }

        static func roundUp(_ n: Int, _ m: Int) -> Int { (n + m - 1) / m * m }
    }

    /// Copies one sample's (C, H, W) input into the interior of its padded planes, at row and
    /// column offset `pad`. The borders (and the slack) are not written: zero all
    /// `plan.paddedLength` floats once before the first sample.
    public static func pad(_ padded: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, plan: Plan) {
        let (Hp, Wp, H, W) = (plan.paddedHeight, plan.paddedWidth, plan.H, plan.W)
        for c in 0..<plan.C {
            let plane = padded + c * Hp * Wp + plan.pad * Wp + plan.pad
            let image = inp + c * H * W
            for y in 0..<H { (plane + y * Wp).update(from: image + y * W, count: W) }
        }
    }

    /// One sample's convolution from its padded planes, with bias, optional relu and optional 2×2
    /// max-pool (stride 2).
    ///
    /// padded is from `pad`, weight is (OC, C, K, K), bias is (OC), scratch holds
    /// `plan.scratchLength` floats; out is (OC, OH, OW), or (OC, ⌊OH/2⌋, ⌊OW/2⌋) with `pool`.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ padded: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, plan: Plan, relu: Bool, pool: Bool
    ) {
        let (C, Hp, Wp, OC, OH, OW) = (plan.C, plan.paddedHeight, plan.paddedWidth, plan.OC, plan.OH, plan.OW)
        // A constant K lets the compiler unroll the kernel row.
        switch (plan.layout, plan.K) {
        case (.rows, 3):
            rowsBody(
                out, padded, weight, bias, C: C, Hp: Hp, Wp: Wp, OC: OC, K: 3, OH: OH, OW: OW, relu: relu, pool: pool)
        case (.rows, 5):
            rowsBody(
                out, padded, weight, bias, C: C, Hp: Hp, Wp: Wp, OC: OC, K: 5, OH: OH, OW: OW, relu: relu, pool: pool)
        case (.rows, let K):
            rowsBody(
                out, padded, weight, bias, C: C, Hp: Hp, Wp: Wp, OC: OC, K: K, OH: OH, OW: OW, relu: relu, pool: pool)
        case (.flat, 3):
            flatSums(scratch, padded, weight, C: C, Hp: Hp, Wp: Wp, OC: OC, K: 3, OH: OH)
        case (.flat, 5):
            flatSums(scratch, padded, weight, C: C, Hp: Hp, Wp: Wp, OC: OC, K: 5, OH: OH)
        case (.flat, let K):
            flatSums(scratch, padded, weight, C: C, Hp: Hp, Wp: Wp, OC: OC, K: K, OH: OH)
        }
        if plan.layout == .flat {
            flatFinish(out, scratch, bias, Wp: Wp, OC: OC, OH: OH, OW: OW, relu: relu, pool: pool)
        }
    }

    /// The `rows` layout: tiles of 16 columns on output rows y and y + 1.
    @inline(__always)
    static func rowsBody(
        _ out: UnsafeMutablePointer<Float>, _ padded: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, C: Int, Hp: Int, Wp: Int, OC: Int, K: Int, OH: Int, OW: Int, relu: Bool,
        pool: Bool
    ) {
        let filter = C * K * K
        let (PH, PW) = (OH / 2, OW / 2)
        let rowPairs = pool ? PH : (OH + 1) / 2
        for o0 in stride(from: 0, to: OC, by: 2) {
            // An odd last channel runs twice in the same tile; its copy is not stored.
            let o1 = min(o0 + 1, OC - 1)
            let w0 = weight + o0 * filter
            let w1 = weight + o1 * filter
            let b0 = bias[o0]
            let b1 = bias[o1]
            for t in 0..<rowPairs {
                let y = 2 * t
                for x0 in stride(from: 0, to: OW, by: tileColumns) {
                    let (a00, a01, a10, a11) = tile(
                        padded + y * Wp + x0, second: Wp, w0, w1, C: C, Hp: Hp, Wp: Wp, K: K)
                    if pool {
                        let columns = min(tileColumns / 2, PW - x0 / 2)
                        let first = out + (o0 * PH + t) * PW + x0 / 2
                        // Written out rather than called: the compiler keeps a call otherwise.
                        let rows0 = maximum(a00, a01)
                        let rows1 = maximum(a10, a11)
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
                            if second {
                                store(activated(a11, bias: b1, relu: relu), to: first + OH * OW + OW, count: columns)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The register tile: for channels w0 and w1 (each (C, K, K)), the sums of the 16 outputs
    /// starting at `first` and of the 16 starting at `first + second` (in padded coordinates of
    /// channel 0), as (w0 first, w0 second, w1 first, w1 second).
    @inline(__always)
    static func tile(
        _ first: UnsafePointer<Float>, second: Int, _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>,
        C: Int, Hp: Int, Wp: Int, K: Int
    ) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        var (a00, a01, a10, a11) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        var u = w0
        var v = w1
        for c in 0..<C {
            var row = first + c * Hp * Wp
            for _ in 0..<K {
                for j in 0..<K {
                    let top = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                    let bottom = UnsafeRawPointer(row + second + j).loadUnaligned(as: SIMD16<Float>.self)
                    let s = SIMD16<Float>(repeating: u[j])
                    let r = SIMD16<Float>(repeating: v[j])
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
        return (a00, a01, a10, a11)
    }

    /// The `flat` layout's sums: scratch holds per channel `span = 32·⌈OH·Wp/32⌉` floats, output
    /// (y, x) at `y·Wp + x` (columns x ≥ OW and the tail hold sums of no output).
    @inline(__always)
    static func flatSums(
        _ scratch: UnsafeMutablePointer<Float>, _ padded: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        C: Int, Hp: Int, Wp: Int, OC: Int, K: Int, OH: Int
    ) {
        let filter = C * K * K
        let span = Plan.roundUp(OH * Wp, 32)
        for o0 in stride(from: 0, to: OC, by: 2) {
            let o1 = min(o0 + 1, OC - 1)
            let w0 = weight + o0 * filter
            let w1 = weight + o1 * filter
            for q0 in stride(from: 0, to: span, by: 32) {
                let (a00, a01, a10, a11) = tile(padded + q0, second: 16, w0, w1, C: C, Hp: Hp, Wp: Wp, K: K)
                let d0 = UnsafeMutableRawPointer(scratch + o0 * span + q0)
                let d1 = UnsafeMutableRawPointer(scratch + o1 * span + q0)
                d1.storeBytes(of: a10, as: SIMD16<Float>.self)
                d1.storeBytes(of: a11, toByteOffset: 64, as: SIMD16<Float>.self)
                d0.storeBytes(of: a00, as: SIMD16<Float>.self)
                d0.storeBytes(of: a01, toByteOffset: 64, as: SIMD16<Float>.self)
            }
        }
    }

    /// The `flat` layout's last pass: bias, relu and the optional pool from the scratch sums.
    static func flatFinish(
        _ out: UnsafeMutablePointer<Float>, _ scratch: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        Wp: Int, OC: Int, OH: Int, OW: Int, relu: Bool, pool: Bool
    ) {
        let span = Plan.roundUp(OH * Wp, 32)
        let (PH, PW) = (OH / 2, OW / 2)
        for o in 0..<OC {
            let plane = scratch + o * span
            let b = bias[o]
            if pool {
                let dst = out + o * PH * PW
                for t in 0..<PH {
                    let top = plane + 2 * t * Wp
                    let bottom = top + Wp
                    for x in 0..<PW {
                        let a = top[2 * x]
                        let c = top[2 * x + 1]
                        let d = bottom[2 * x]
                        let e = bottom[2 * x + 1]
                        let ac = c > a || c != c ? c : a
                        let de = e > d || e != e ? e : d
                        let value = (de > ac || de != de ? de : ac) + b
                        dst[t * PW + x] = relu ? (value > 0 ? value : 0) : value
                    }
                }
            } else {
                let dst = out + o * OH * OW
                for y in 0..<OH {
                    for x in 0..<OW {
                        let value = plane[y * Wp + x] + b
                        dst[y * OW + x] = relu ? (value > 0 ? value : 0) : value
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
