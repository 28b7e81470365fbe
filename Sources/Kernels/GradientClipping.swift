/// The global L2 norm `‖g‖ = √(Σᵢ gᵢ²)` of a flat gradient buffer, summed in `Double`.
///
/// - Parameter grads: `(N)`.
public func gradientGlobalNorm(_ grads: UnsafePointer<Float>, _ N: Int) -> Float {
    var sum = 0.0
    for i in 0..<N {
        let g = Double(grads[i])
        sum += g * g
    }
    return Float(sum.squareRoot())
}

/// Global-norm gradient clipping (Pascanu, Mikolov & Bengio 2013), as PyTorch's
/// `clip_grad_norm_`: when `‖g‖ > maxNorm`, every gradient is scaled by `maxNorm / (‖g‖ + 1e−6)`.
///
/// - Parameters:
///   - grads: `(N)`, scaled in place.
///   - maxNorm: the largest allowed norm.
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientsByGlobalNorm(_ grads: UnsafeMutablePointer<Float>, _ N: Int, maxNorm: Float) -> Float {
    let norm = gradientGlobalNorm(grads, N)
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for i in 0..<N { grads[i] *= scale }
    }
    return norm
}
