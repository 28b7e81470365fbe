import CBLAS

/// Eigendecomposition `A = Vᵀ diag(λ) V` of a symmetric matrix by LAPACK's `dsyevd` (OpenBLAS).
enum SymmetricEigen {
    /// - Parameters:
    ///   - matrix: `[n × n]` symmetric, row-major (only one triangle is read).
    ///   - n: the order.
    /// - Returns: `values` `[n]` ascending, and `vectors` `[n × n]` whose row `k` is the unit
    ///   eigenvector of `values[k]`.
    static func decompose(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "matrix has \(matrix.count) entries, expected \(n)²")
        // Row-major A is column-major Aᵀ = A; the column-major eigenvector matrix read row-major is
        // its transpose, whose rows are the eigenvectors.
        var vectors = matrix
        var values = [Double](repeating: 0, count: n)
        var order = Int32(n)
        var info: Int32 = 0
        var job = CChar(UInt8(ascii: "V"))
        var triangle = CChar(UInt8(ascii: "U"))
        var workSize: Int32 = -1
        var integerWorkSize: Int32 = -1
        var workQuery = 0.0
        var integerWorkQuery: Int32 = 0
        dsyevd_(
            &job, &triangle, &order, &vectors, &order, &values, &workQuery, &workSize, &integerWorkQuery,
            &integerWorkSize, &info, 1, 1)
        precondition(info == 0, "dsyevd workspace query failed (info \(info))")
        workSize = Int32(workQuery)
        integerWorkSize = integerWorkQuery
        var work = [Double](repeating: 0, count: Int(workSize))
        var integerWork = [Int32](repeating: 0, count: Int(integerWorkSize))
        dsyevd_(
            &job, &triangle, &order, &vectors, &order, &values, &work, &workSize, &integerWork, &integerWorkSize, &info,
            1, 1)
        precondition(info == 0, "dsyevd failed to converge (info \(info))")
        return (values, vectors)
    }
}
