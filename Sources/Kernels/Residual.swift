/// Residual connection: `out = inp1 + inp2`.
///
/// - Parameters:
///   - out: `(N)`.
///   - inp1: `(N)`.
///   - inp2: `(N)`.
public func residualForward(
    _ out: UnsafeMutablePointer<Float>, _ inp1: UnsafePointer<Float>, _ inp2: UnsafePointer<Float>, _ N: Int
) {
    for i in 0..<N { out[i] = inp1[i] + inp2[i] }
}

/// Backward pass of `residualForward`; adds `dout` into both input gradients.
///
/// - Parameters:
///   - dinp1: `(N)`.
///   - dinp2: `(N)`.
///   - dout: `(N)`.
public func residualBackward(
    _ dinp1: UnsafeMutablePointer<Float>, _ dinp2: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ N: Int
) {
    for i in 0..<N {
        dinp1[i] += dout[i]
        dinp2[i] += dout[i]
    }
}
