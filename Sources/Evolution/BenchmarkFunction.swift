import Foundation

/// Standard test functions for checking optimisers on known ground; each is minimised, with
/// minimum 0. Values are computed in Double.
public enum BenchmarkFunction: String, CaseIterable, Codable, Sendable {
    /// `Σ xᵢ²`, minimum at 0.
    case sphere
    /// `Σ 10^{6 i/(n−1)} xᵢ²` (condition number 10⁶), minimum at 0.
    case ellipsoid
    /// `Σ_{i<n} 100 (x_{i+1} − xᵢ²)² + (1 − xᵢ)²`, minimum at (1, …, 1).
    case rosenbrock
    /// `10 n + Σ (xᵢ² − 10 cos 2π xᵢ)`, minimum at 0, about 10ⁿ local minima.
    case rastrigin
    /// `−20 exp(−0.2 √(Σ xᵢ²/n)) − exp(Σ cos(2π xᵢ)/n) + 20 + e`, minimum at 0.
    case ackley

    /// The usual search domain `[low, high]` of every coordinate.
    public var domain: (low: Float, high: Float) {
        switch self {
        case .sphere, .ellipsoid: return (-5, 5)
        case .rosenbrock: return (-2.048, 2.048)
        case .rastrigin: return (-5.12, 5.12)
        case .ackley: return (-32.768, 32.768)
        }
    }

    /// `f(x)`.
    public func value<C: Collection>(_ x: C) -> Double where C.Element == Float {
        let v = x.map(Double.init)
        let n = Double(v.count)
        switch self {
        case .sphere:
            return v.reduce(0) { $0 + $1 * $1 }
        case .ellipsoid:
            guard v.count > 1 else { return v[0] * v[0] }
            return v.enumerated().reduce(0) { $0 + pow(10, 6 * Double($1.offset) / (n - 1)) * $1.element * $1.element }
        case .rosenbrock:
            var sum = 0.0
            for i in 0..<v.count - 1 {
                let a = v[i + 1] - v[i] * v[i]
                let b = 1 - v[i]
                sum += 100 * a * a + b * b
            }
            return sum
        case .rastrigin:
            return 10 * n + v.reduce(0) { $0 + $1 * $1 - 10 * cos(2 * Double.pi * $1) }
        case .ackley:
            let squares = v.reduce(0) { $0 + $1 * $1 } / n
            let cosines = v.reduce(0) { $0 + cos(2 * Double.pi * $1) } / n
            return -20 * exp(-0.2 * squares.squareRoot()) - exp(cosines) + 20 + M_E
        }
    }
}
