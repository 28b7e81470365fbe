import Kernels
import Testing

@testable import Evolution

struct GeneBoundsTests {
    @Test func reflectMirrorsAtTheWalls() {
        let cases: [(Float, Float)] = [
            (1.25, 0.75), (-0.25, 0.25), (2.25, 0.25), (-1.25, 0.75), (3.5, 0.5), (0.4, 0.4), (1, 1), (0, 0),
        ]
        for (x, expected) in cases {
            #expect(
                abs(GeneBounds.reflect(x, 0, 1) - expected) < 1e-6,
                "\(x) → \(GeneBounds.reflect(x, 0, 1)), expected \(expected)")
        }
    }

    @Test(arguments: GeneBounds.Handling.allCases)
    func boundsAreNeverLeft(handling: GeneBounds.Handling) {
        var random = RandomStream(seed: 5, purpose: "wild")
        var row = (0..<10_000).map { _ in Float(random.gaussian() * 1e4) }
        row[0] = .infinity
        row[1] = -.infinity
        row[2] = 1e30
        let bounds = GeneBounds(low: -2, high: 3, handling: handling)
        row.withUnsafeMutableBufferPointer { bounds.apply(to: $0) }
        #expect(row.allSatisfy { $0 >= -2 && $0 <= 3 })
    }

    @Test func perGeneBoundsApplyGeneByGene() {
        var row: [Float] = [5, 5, -5]
        let bounds = GeneBounds(low: [0, 0, -1], high: [1, 10, 0], handling: .clip)
        row.withUnsafeMutableBufferPointer { bounds.apply(to: $0) }
        #expect(row == [1, 5, -1])
    }

    /// Wide mutations, blend crossover that extrapolates, both handlings: every child of every
    /// generation stays inside the box.
    @Test(arguments: GeneBounds.Handling.allCases)
    func bredChildrenStayInBounds(handling: GeneBounds.Handling) {
        let ga = GeneticAlgorithm(
            crossover: .blend(alpha: 2), mutation: Mutation(kind: .gaussian(sigma: 50), genes: .rate(0.5)),
            bounds: GeneBounds(low: -1, high: 1, handling: handling))
        var parents = Population.uniform(
            count: 16, dimension: 200, low: -1, high: 1, key: StreamKey(seed: 1, generation: 0))
        parents.fitness = (0..<16).map(Float.init)
        var children = Population(count: 15, dimension: 200)
        for generation in 1...5 {
            ga.breed(parents: parents, into: &children, key: StreamKey(seed: 1, generation: generation))
            #expect(children.genes.allSatisfy { $0 >= -1 && $0 <= 1 })
        }
    }
}
