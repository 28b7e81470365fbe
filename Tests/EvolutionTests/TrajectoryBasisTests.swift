import Foundation
import Kernels
import Testing

@testable import Evolution

/// `TrajectoryBasis` (the learned rank-q basis per matrix) and `LowRankES`'s guided members.
struct TrajectoryBasisTests {
    static let blocks = [
        LowRankBlock(offset: 0, rows: 30, columns: 20, isMatrix: true),
        LowRankBlock(offset: 600, rows: 30, columns: 1, isMatrix: false),
    ]

    /// `count` orthonormal vectors of length `n` (Gram–Schmidt on Gaussian draws), as columns.
    static func orthonormal(_ n: Int, _ count: Int, seed: UInt64) -> [[Double]] {
        var random = RandomStream(seed: seed, island: 0, generation: 0, purpose: "test")
        var result: [[Double]] = []
        for _ in 0..<count {
            var v = (0..<n).map { _ in random.gaussian() }
            for u in result {
                let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<n { v[i] -= dot * u[i] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            result.append(v.map { $0 / norm })
        }
        return result
    }

    /// `‖Xᵀ y‖` for the `q` columns of row-major `x` (`n × q`): 1 when `y` lies in their span.
    static func projectionNorm(_ x: UnsafePointer<Float>, rows n: Int, columns q: Int, _ y: [Double]) -> Double {
        var sum = 0.0
        for t in 0..<q {
            var dot = 0.0
            for i in 0..<n { dot += Double(x[i * q + t]) * y[i] }
            sum += dot * dot
        }
        return sum.squareRoot()
    }

    /// Repeated steps `S = 5 u₁v₁ᵀ + 3 u₂v₂ᵀ + 0.5 u₃v₃ᵀ`: the path tends to `S` and the rank-2
    /// basis to its top two singular pairs; `U`, `V` stay orthonormal.
    @Test func tracksTheTopSingularVectorsOfThePath() {
        let (m, n) = (30, 20)
        let u = Self.orthonormal(m, 3, seed: 1)
        let v = Self.orthonormal(n, 3, seed: 2)
        let weights = [5.0, 3.0, 0.5]
        var step = [Float](repeating: 0, count: 630)
        for i in 0..<m {
            for j in 0..<n {
                step[i * n + j] = Float((0..<3).reduce(0.0) { $0 + weights[$1] * u[$1][i] * v[$1][j] })
            }
        }
        for i in 600..<630 { step[i] = 1 }
        var basis = TrajectoryBasis(blocks: Self.blocks, rank: 2)
        #expect(basis.isReady == [false, false])
        for _ in 0..<40 { basis.update(step: step, blocks: Self.blocks) }
        #expect(basis.isReady == [true, false])
        basis.withFactors(block: 0, rows: m) { uf, vf in
            for k in 0..<2 {
                #expect(abs(Self.projectionNorm(uf, rows: m, columns: 2, u[k]) - 1) < 1e-4, "u\(k + 1)")
                #expect(abs(Self.projectionNorm(vf, rows: n, columns: 2, v[k]) - 1) < 1e-4, "v\(k + 1)")
            }
            #expect(Self.projectionNorm(uf, rows: m, columns: 2, u[2]) < 1e-3)
            for s in 0..<2 {
                for t in 0..<2 {
                    let dot = (0..<m).reduce(0.0) { $0 + Double(uf[$1 * 2 + s]) * Double(uf[$1 * 2 + t]) }
                    #expect(abs(dot - (s == t ? 1 : 0)) < 1e-5)
                }
            }
        }
    }

    /// A zero step leaves the basis unready, and a guided member then draws all of its change at
    /// random.
    @Test func aZeroPathHasNoBasis() {
        var basis = TrajectoryBasis(blocks: Self.blocks, rank: 2)
        basis.update(step: [Float](repeating: 0, count: 630), blocks: Self.blocks)
        #expect(basis.isReady == [false, false])
    }

    /// Fitness that rewards gene 0's direction moves the mean; then, with α = 1, every member's
    /// matrix change lies in `span(U) ⊗ span(V)`: `(I − UUᵀ) E = 0` and `E (I − VVᵀ) = 0`; its mean
    /// square per entry stays 1, with α = 1 and α = ½; pairs stay mirrored.
    @Test func guidedMembersLieInTheBasisWithUnitVariance() {
        for share: Float in [1, 0.5] {
            var es = LowRankES(
                mean: [Float](repeating: 0, count: 630), blocks: Self.blocks, rank: 2, stepSize: 1,
                populationSize: 200, guidedRank: 3, guidedShare: share)
            #expect(es.codeRank == 5 && es.codeDimension == 5 * 50 + 30)
            var codes = Population(count: 0, dimension: 1)
            var scratch = Population(count: 0, dimension: 1)
            var genomes = [Float](repeating: 0, count: 200 * 630)
            for generation in 1...3 {
                let rows = es.nextGeneration(&codes, scratch: &scratch, key: StreamKey(seed: 4, generation: generation))
                genomes.withUnsafeMutableBufferPointer { es.decode(codes, rows: rows, into: $0) }
                for k in rows {
                    let x = genomes[k * 630..<(k + 1) * 630]
                    codes.fitness[k] = x[x.startIndex] + 0.5 * x[x.startIndex + 21] - abs(x[x.startIndex + 600])
                }
            }
            #expect(es.basis!.isReady[0])
            var squares = 0.0
            var offBasis = 0.0
            es.basis!.withFactors(block: 0, rows: 30) { u, v in
                for k in 0..<200 {
                    var e = [Double](repeating: 0, count: 600)
                    for j in 0..<600 { e[j] = Double(genomes[k * 630 + j] - es.mean[j]) }
                    squares += e.reduce(0) { $0 + $1 * $1 }
                    if k % 2 == 1 {
                        let mirrored = (0..<630).allSatisfy {
                            abs((genomes[k * 630 + $0] - es.mean[$0]) + (genomes[(k - 1) * 630 + $0] - es.mean[$0]))
                                < 1e-5
                        }
                        #expect(mirrored, "row \(k) mirrors row \(k - 1)")
                    }
                    guard share == 1 else { continue }
                    // E − U (Uᵀ E V) Vᵀ, whose norm is 0 when E lies in the basis.
                    var core = [Double](repeating: 0, count: 9)
                    for s in 0..<3 {
                        for t in 0..<3 {
                            for i in 0..<30 {
                                for j in 0..<20 {
                                    core[s * 3 + t] += Double(u[i * 3 + s]) * e[i * 20 + j] * Double(v[j * 3 + t])
                                }
                            }
                        }
                    }
                    for i in 0..<30 {
                        for j in 0..<20 {
                            var back = 0.0
                            for s in 0..<3 {
                                for t in 0..<3 { back += Double(u[i * 3 + s]) * core[s * 3 + t] * Double(v[j * 3 + t]) }
                            }
                            offBasis += (e[i * 20 + j] - back) * (e[i * 20 + j] - back)
                        }
                    }
                }
            }
            #expect(abs(squares / (200 * 600) - 1) < 0.1, "α \(share): mean square \(squares / (200 * 600))")
            if share == 1 { #expect(offBasis / squares < 1e-8, "part outside the basis \(offBasis / squares)") }
        }
    }

    /// Guided members, the center and adapted σ checkpoint and continue bit for bit.
    @Test func aGuidedStrategyCheckpointsBitForBit() throws {
        let start = LowRankES(
            mean: [Float](repeating: 0.5, count: 630), blocks: Self.blocks, rank: 2, stepSize: 0.1, populationSize: 8,
            center: true, learningRateSigma: 0.2, guidedRank: 2)
        let es = try LowRankESTests.checkpointContinuesBitForBit(start, generations: 3, immigrant: false)
        #expect(es.sigmas.contains { $0 != 0.1 })
        #expect(es.basis!.isReady[0])
    }
}
