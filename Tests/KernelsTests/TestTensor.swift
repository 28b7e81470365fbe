import Kernels

/// A heap buffer of floats for tests.
///
/// Its memory is never freed: tests pass `tensor.p` to kernels, and an optimised build may end
/// the object's lifetime at that last use, before the kernel runs. Test tensors total a few
/// kilobytes per process.
final class TestTensor {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    convenience init(_ values: [Float]) {
        self.init(values.count)
        for (i, value) in values.enumerated() { pointer[i] = value }
    }

    convenience init(_ values: [Double]) {
        self.init(values.map(Float.init))
    }

    /// `count` draws of N(0, std²) from a stream keyed by `purpose`.
    convenience init(gaussian count: Int, std: Float = 1, purpose: String) {
        self.init(count)
        var random = RandomStream(seed: 42, purpose: purpose)
        random.fillGaussian(UnsafeMutableBufferPointer(start: pointer, count: count), std: std)
    }

    var p: UnsafeMutablePointer<Float> { pointer }
    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    func zero() { pointer.update(repeating: 0, count: count) }

    /// `Σ self ⊙ weights` in Double: the scalar loss whose gradient with respect to this output is
    /// `weights`.
    func dot(_ weights: TestTensor) -> Double {
        var sum = 0.0
        for i in 0..<count { sum += Double(pointer[i]) * Double(weights.pointer[i]) }
        return sum
    }
}

/// Largest `|a − b| / (atol + rtol·|b|)` over the elements; ≤ 1 means every element is within
/// tolerance.
func worstError(_ actual: [Float], _ expected: [Double], atol: Double, rtol: Double) -> Double {
    precondition(actual.count == expected.count, "sizes differ: \(actual.count) vs \(expected.count)")
    var worst = 0.0
    for i in actual.indices {
        worst = max(worst, abs(Double(actual[i]) - expected[i]) / (atol + rtol * abs(expected[i])))
    }
    return worst
}

/// Compares an analytic gradient with central finite differences of `loss` on every element of
/// `input` (or `samples` of them): returns `‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖, 1e−6)`.
///
/// The loss is computed in Double from a float32 forward pass; `eps = 1e−2` keeps the float32
/// rounding of the forward pass (≈1e−7 relative) well below the difference being measured.
func finiteDifferenceError(
    _ input: TestTensor, _ analytic: TestTensor, eps: Float = 1e-2, samples: Int? = nil, loss: () -> Double
) -> Double {
    var indices = Array(0..<input.count)
    if let samples, samples < input.count {
        var random = RandomStream(seed: 3, purpose: "finite-difference sample")
        random.shuffle(&indices)
        indices = Array(indices.prefix(samples))
    }
    var differenceSquared = 0.0
    var analyticSquared = 0.0
    var numericSquared = 0.0
    for i in indices {
        let saved = input[i]
        input[i] = saved + eps
        let plus = loss()
        input[i] = saved - eps
        let minus = loss()
        input[i] = saved
        let numeric = (plus - minus) / (2 * Double(eps))
        let a = Double(analytic[i])
        differenceSquared += (a - numeric) * (a - numeric)
        analyticSquared += a * a
        numericSquared += numeric * numeric
    }
    return differenceSquared.squareRoot() / max(analyticSquared.squareRoot(), numericSquared.squareRoot(), 1e-6)
}
