import Evolution
import IslandModel
import Kernels
import Testing

@Suite("EmigrantSelection")
struct EmigrantSelectionTests {
    @Test("best emigrants are the fittest, best first; NaN is never chosen before a number")
    func best() {
        var stream = RandomStream(seed: 1, purpose: "migration")
        #expect(EmigrantSelection.best.choose(2, fitness: [0.1, .nan, 0.9, 0.5], stream: &stream) == [2, 3])
        #expect(EmigrantSelection.best.choose(9, fitness: [3, 3, 1], stream: &stream) == [0, 1, 2])
    }

    @Test("random emigrants are distinct, reproducible per stream, and cover everyone over many draws")
    func random() {
        let fitness = [Float](repeating: 0, count: 6)
        var seen = Set<Int>()
        for generation in 0..<50 {
            var a = RandomStream(seed: 3, generation: generation, purpose: "migration")
            var b = RandomStream(seed: 3, generation: generation, purpose: "migration")
            let chosen = EmigrantSelection.random.choose(3, fitness: fitness, stream: &a)
            #expect(chosen == EmigrantSelection.random.choose(3, fitness: fitness, stream: &b))
            #expect(Set(chosen).count == 3)
            seen.formUnion(chosen)
        }
        #expect(seen == Set(0..<6))
    }

    @Test("emigrants carry genes, fitness and ids of the chosen rows")
    func emigrantRows() {
        var population = Population(count: 3, dimension: 2)
        population.genes = [0, 0, 1, 1, 2, 2]
        population.fitness = [5, 9, 7]
        population.ids = [10, 11, 12]
        var stream = RandomStream(seed: 1, purpose: "migration")
        let out = EmigrantSelection.best.emigrants(of: population, count: 2, stream: &stream)
        #expect(out.genes == [1, 1, 2, 2])
        #expect(out.fitness == [9, 7])
        #expect(out.ids == [11, 12])
    }
}
