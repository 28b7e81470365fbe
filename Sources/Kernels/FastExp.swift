/// A branch-free float32 exponential the compiler can vectorise, for the losses' log-sum-exp and
/// every softmax (`softmaxForward`, attention).
///
/// Cephes' `expf` (S. L. Moshier): with `n = round(x·log₂e)` and `r = x − n·ln 2` (ln 2 split in
/// two constants so the reduction is exact), `eʳ ≈ 1 + r + r²·P(r)` for a degree-5 polynomial `P`
/// on `|r| ≤ ½ ln 2`, and `eˣ = eʳ · 2ⁿ` with `2ⁿ` built from its exponent bits. The rounding
/// uses the magic constant 1.5·2²³ (adding it leaves `n` in the low mantissa bits), so there is
/// no float-to-integer conversion and the loop vectorises. Arguments are clamped to
/// `[−87.3, 88.7]` (so `2ⁿ` stays a normal float), which callers must allow for: the losses and
/// softmaxes only pass `z − max z ≤ 0`. Relative error below 2·10⁻⁷ (checked in the tests against float64
/// `exp`). A NaN argument gives NaN. `@inlinable`, so loops in other modules inline and
/// vectorise it.
@inlinable @inline(__always)
public func fastExp(_ value: Float) -> Float {
    value.isNaN ? value : expReduced(Swift.min(Swift.max(value, -87.3), 88.7))
}

/// `fastExp` for an argument known to be at most 0, such as `z − max z`: the same operations, so
/// the same result, without the upper clamp and the NaN selects, so a loop over it runs fewer
/// instructions. A NaN argument still gives NaN: `max(NaN, −87.3)` is NaN (`Swift.max(a, b)` is
/// `b >= a ? b : a`) and NaN stays NaN through the arithmetic.
@inlinable @inline(__always)
public func fastExpNonPositive(_ value: Float) -> Float {
    expReduced(Swift.max(value, -87.3))
}

/// The Cephes core shared by `fastExp` and `fastExpNonPositive`, for `x` already clamped to
/// `[−87.3, 88.7]`: range reduction by the magic constant, the degree-5 polynomial, `2ⁿ` from bits.
@inlinable @inline(__always)
func expReduced(_ x: Float) -> Float {
    let magic: Float = 12_582_912  // 1.5 · 2²³
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * (r * r) + r + 1
    // The low bits of `shifted` hold n + 2²² (two's complement in 23 bits); 2ⁿ has exponent n + 127.
    let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23)
    return er * scale
}

/// `values[i] = exp(values[i])` for every element, with `fastExp`.
@inlinable
public func fastExp(_ values: UnsafeMutableBufferPointer<Float>) {
    guard let base = values.baseAddress else { return }
    for i in 0..<values.count { base[i] = fastExp(base[i]) }
}

/// `output[i] = exp(input[i])` for `count` elements, with `fastExp`.
@inlinable
public func fastExp(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { output[i] = fastExp(input[i]) }
}

/// A branch-free float32 natural logarithm of a positive normal float, which vectorises.
///
/// Cephes' `logf` (S. L. Moshier): `x = m·2ᵉ` with `m ∈ [√½, √2)` taken from the bits, then with
/// `f = m − 1`: `ln x = f − f²/2 + f³·P(f) + e·ln 2`, `P` of degree 8, and ln 2 split in two
/// constants. Relative error below 3·10⁻⁷ for positive normal arguments (the only ones the losses
/// pass: sums of exponentials that include at least one term ≥ e⁻⁸⁰).
@inlinable @inline(__always)
public func fastLog(_ x: Float) -> Float {
    let bits = x.bitPattern
    var e = Float(Int32(bitPattern: (bits >> 23) & 0xFF) - 126)
    var m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F00_0000)  // [0.5, 1)
    let small = m < 0.707_106_781
    e = small ? e - 1 : e
    m = small ? m + m - 1 : m - 1
    let z = m * m
    var y: Float = 7.037_683_629_2e-2
    y = y * m - 1.151_461_031_0e-1
    y = y * m + 1.167_699_874_0e-1
    y = y * m - 1.242_014_084_6e-1
    y = y * m + 1.424_932_278_7e-1
    y = y * m - 1.666_805_766_5e-1
    y = y * m + 2.000_071_476_5e-1
    y = y * m - 2.499_999_399_3e-1
    y = y * m + 3.333_333_117_4e-1
    y = y * m * z
    y += -2.121_944_4e-4 * e
    y += -0.5 * z
    return m + y + 0.693_359_375 * e
}
