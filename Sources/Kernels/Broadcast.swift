/// Repeats one row for every batch element: `out[b, :] = inp[:]` (learned latent queries, learned
/// position tables shared by a batch).
///
/// - Parameters:
///   - out: `(B, N)`.
///   - inp: `(N)`.
public func broadcastForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ B: Int, _ N: Int) {
    for b in 0..<B { (out + b * N).update(from: inp, count: N) }
}

/// Backward pass of `broadcastForward`: `dinp += Σ_b dout[b, :]`.
///
/// - Parameters:
///   - dinp: `(N)`.
///   - dout: `(B, N)`.
public func broadcastBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ B: Int, _ N: Int) {
    for b in 0..<B {
        let row = dout + b * N
        for i in 0..<N { dinp[i] += row[i] }
    }
}
