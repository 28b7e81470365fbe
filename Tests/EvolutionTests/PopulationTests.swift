import Foundation
import Testing

@testable import Evolution

struct PopulationTests {
    func population(_ fitness: [Float]) -> Population {
        var population = Population(count: fitness.count, dimension: 3)
        for i in 0..<fitness.count {
            population.withRow(i) { row in for j in 0..<3 { row[j] = Float(10 * i + j) } }
        }
        population.fitness = fitness
        population.assignIDs(key: StreamKey(seed: 0, island: 1, generation: 2))
        return population
    }

    @Test func rankingPutsNaNAndUnevaluatedLastAndKeepsTiesInOrder() {
        let p = population([1, .nan, 3, -.infinity, 3])
        #expect(p.ranking() == [2, 4, 0, 1, 3])
        #expect(p.bestIndex == 2)
    }

    @Test("+∞ (an overflowing or broken evaluation) ranks last with NaN and −∞, not first")
    func rankingPutsPositiveInfinityLast() {
        let p = population([1, .infinity, 3, .nan, -.infinity, 2])
        #expect(p.ranking() == [2, 5, 0, 1, 3, 4])
        #expect(p.bestIndex == 2)
    }

    @Test("fair replacement does not let a +∞ or NaN immigrant displace a finite resident")
    func fairReplacementRejectsNonFiniteImmigrants() {
        var residents = population([1, 2, 3])
        let immigrants = population([.infinity, .nan])
        #expect(residents.insert(immigrants: immigrants, replacement: .fair) == 0)
        #expect(residents.fitness == [1, 2, 3])
    }

    @Test func idsPackIslandGenerationAndIndex() {
        let id = Population.individualID(island: 3, generation: 70_000, index: 5)
        #expect(id >> 48 == 3 && (id >> 16) & 0xFFFF_FFFF == 70_000 && id & 0xFFFF == 5)
    }

    @Test func copyIndividualMovesEverything() {
        let source = population([4, 5])
        var target = Population(count: 3, dimension: 3)
        target.copyIndividual(1, of: source, to: 2)
        #expect(target.row(2) == source.row(1) && target.fitness[2] == 5 && target.ids[2] == source.ids[1])
        #expect(target.row(0) == [0, 0, 0])
    }

    @Test func bestTakesTheEmigrantsBestFirst() {
        let emigrants = population([1, 9, 4]).best(2)
        #expect(emigrants.fitness == [9, 4] && emigrants.row(0) == [10, 11, 12])
    }

    @Test func immigrantsReplaceTheWorst() {
        var residents = population([5, 1, 7, 3])
        let immigrants = population([0, 2]).best(2)
        #expect(residents.insert(immigrants: immigrants, replacement: .replaceWorst) == 2)
        #expect(residents.fitness == [5, 2, 7, 0])
    }

    @Test func fairReplacementOnlyTakesBetterImmigrants() {
        var residents = population([5, 1, 7, 3])
        var immigrants = population([2, 0, 6])
        immigrants.ids = [100, 101, 102]
        #expect(residents.insert(immigrants: immigrants, replacement: .fair) == 1)
        // 6 replaces 1; 2 cannot replace 3, the worst left; 0 is never tried.
        #expect(residents.fitness == [5, 6, 7, 3])
        #expect(residents.ids[1] == 102)
    }

    @Test func codableRoundTripIsExact() throws {
        var p = population([1.5, -2])
        p.stepSizes = [0.25, 0.125]
        let decoded = try JSONDecoder().decode(Population.self, from: JSONEncoder().encode(p))
        #expect(decoded == p)
    }

    @Test func resizeKeepsRows() {
        var p = population([1, 2, 3])
        p.resize(count: 2)
        #expect(p.count == 2 && p.genes.count == 6 && p.row(1) == [10, 11, 12])
        p.resize(count: 4)
        #expect(p.count == 4 && p.fitness[3] == Population.unevaluated && p.row(3) == [0, 0, 0])
    }
}
