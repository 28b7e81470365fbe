import CBLAS
import Foundation

/// A rank-`q` basis per weight matrix learned from the run's own trajectory, for `LowRankES`'s
/// guided members (the anchored latent at scale: Guided ES, Maheswaranathan et al. 2019, and
/// DLDR, Li et al. 2022, with the subspace taken per matrix and kept at rank `q`).
///
/// It keeps an evolution path of the mean's steps, `P ← (1 − c) P + c Δμ` (`c` = `pathRate`, one
/// `P` for the whole genome), and for every matrix block `P_b` (`m × n`) an orthonormal pair
/// `U_b` (`m × q`), `V_b` (`n × q`) that tracks `P_b`'s top `q` singular vectors by one step of
/// subspace (block power) iteration per update, warm-started from the last `V_b`:
///
///   `U ← orth(P_b V)`,  `V ← orth(P_bᵀ U)`,
///
/// two `[m × n] · [n × q]` products per matrix: `O(q · D)` a generation, no `m × n` SVD.
/// `orth` is modified Gram–Schmidt in double precision over the columns, in order. A block whose
/// path is still zero has no basis (`isReady` false) and its guided part stays zero.
public struct TrajectoryBasis: Codable, Equatable, Sendable {
    /// `q`, the basis rank per matrix.
    public let rank: Int
    /// `c`, the path's weight on the newest step.
    public let pathRate: Float
    /// `P`, `[D]`: the path of the mean's steps.
    @Packed public private(set) var path: [Float]
    /// Per matrix block, in block order: `U_b` `[m × q]` then `V_b` `[n × q]`, row-major.
    @Packed public private(set) var factors: [Float]
    /// Per block: whether `U_b`, `V_b` hold a basis (false for vectors and untouched matrices).
    public private(set) var isReady: [Bool]
    /// Where each block's factors start in `factors` (−1 for a vector block).
    public let offsets: [Int]

    /// A basis of rank `rank` over `blocks`; every `V_b` starts as the first `q` coordinate axes.
    public init(blocks: [LowRankBlock], rank: Int, pathRate: Float = 0.1) {
        precondition(rank >= 1, "the basis rank must be at least 1")
        precondition(pathRate > 0 && pathRate <= 1, "the path rate must lie in (0, 1]")
        self.rank = rank
        self.pathRate = pathRate
        var offsets: [Int] = []
        var at = 0
        for block in blocks {
            precondition(
                !block.isMatrix || (rank <= block.rows && rank <= block.columns),
                "the basis rank \(rank) exceeds a \(block.rows) × \(block.columns) matrix")
            offsets.append(block.isMatrix ? at : -1)
            if block.isMatrix { at += rank * (block.rows + block.columns) }
        }
        self.offsets = offsets
        path = [Float](repeating: 0, count: blocks.last.map { $0.offset + $0.geneCount } ?? 0)
        var factors = [Float](repeating: 0, count: at)
        for (b, block) in blocks.enumerated() where block.isMatrix {
            let v = offsets[b] + block.rows * rank
            for j in 0..<rank { factors[v + j * rank + j] = 1 }
        }
        self.factors = factors
        isReady = [Bool](repeating: false, count: blocks.count)
    }

    /// Adds the mean's step `Δμ` (`[D]`) to the path and moves every matrix's basis one step of
    /// subspace iteration towards the path's top singular vectors.
    public mutating func update(step: [Float], blocks: [LowRankBlock]) {
        precondition(step.count == path.count, "the step has \(step.count) genes, the path \(path.count)")
        let c = pathRate
        for j in 0..<path.count { path[j] = (1 - c) * path[j] + c * step[j] }
        let q = rank
        for (b, block) in blocks.enumerated() where block.isMatrix {
            let (m, n) = (block.rows, block.columns)
            var product = [Float](repeating: 0, count: max(m, n) * q)
            let offset = offsets[b]
            let ready = path.withUnsafeBufferPointer { pathBuffer in
                factors.withUnsafeMutableBufferPointer { f -> Bool in
                    let p = pathBuffer.baseAddress! + block.offset
                    let u = f.baseAddress! + offset
                    let v = u + m * q
                    // U ← orth(P V).
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(q), Int32(n), 1, p, Int32(n), v,
                        Int32(q), 0, &product, Int32(q))
                    guard Self.orthonormalize(&product, rows: m, columns: q) else { return false }
                    u.update(from: product, count: m * q)
                    // V ← orth(Pᵀ U).
                    cblas_sgemm(
                        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(q), Int32(m), 1, p, Int32(n), u,
                        Int32(q), 0, &product, Int32(q))
                    guard Self.orthonormalize(&product, rows: n, columns: q) else { return false }
                    v.update(from: product, count: n * q)
                    return true
                }
            }
            if ready { isReady[b] = true }
        }
    }

    /// `U_b` and `V_b` of block `b` (`[m × q]`, `[n × q]`, row-major), valid while `isReady[b]`.
    public func withFactors<R>(
        block b: Int, rows m: Int, _ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> R
    ) -> R {
        factors.withUnsafeBufferPointer { f in
            let u = f.baseAddress! + offsets[b]
            return body(u, u + m * rank)
        }
    }

    /// Modified Gram–Schmidt on the `columns` columns of the row-major `rows × columns` matrix
    /// `a`, in double precision. Returns false (and leaves `a` undefined) when a column has no
    /// part outside the ones before it (norm below 1e-30 times the matrix's largest column norm).
    static func orthonormalize(_ a: inout [Float], rows: Int, columns: Int) -> Bool {
        var x = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows * columns { x[i] = Double(a[i]) }
        var largest = 0.0
        for j in 0..<columns {
            var norm = 0.0
            for i in 0..<rows { norm += x[i * columns + j] * x[i * columns + j] }
            largest = max(largest, norm)
        }
        guard largest > 0 else { return false }
        for j in 0..<columns {
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<rows { dot += x[i * columns + k] * x[i * columns + j] }
                for i in 0..<rows { x[i * columns + j] -= dot * x[i * columns + k] }
            }
            var norm = 0.0
            for i in 0..<rows { norm += x[i * columns + j] * x[i * columns + j] }
            guard norm > 1e-30 * largest else { return false }
            let scale = 1 / norm.squareRoot()
            for i in 0..<rows { x[i * columns + j] *= scale }
        }
        for i in 0..<rows * columns { a[i] = Float(x[i]) }
        return true
    }
}
