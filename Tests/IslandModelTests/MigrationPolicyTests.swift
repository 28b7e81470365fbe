import IslandModel
import Kernels
import Testing

@Suite("Migration policies")
struct MigrationPolicyTests {
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
        for generation in 0 ..< 50 {
            var a = RandomStream(seed: 3, generation: generation, purpose: "migration")
            var b = RandomStream(seed: 3, generation: generation, purpose: "migration")
            let chosen = EmigrantSelection.random.choose(3, fitness: fitness, stream: &a)
            #expect(chosen == EmigrantSelection.random.choose(3, fitness: fitness, stream: &b))
            #expect(Set(chosen).count == 3)
            seen.formUnion(chosen)
        }
        #expect(seen == Set(0 ..< 6))
    }

    @Test("worst replacement overwrites the lowest-fitness residents whatever the immigrants score")
    func worst() {
        let pairs = ImmigrantReplacement.worst.placements(residents: [5, 1, 3, 0], immigrants: [-10, 7])
        #expect(pairs.map(\.resident) == [3, 1])
        #expect(pairs.map(\.immigrant) == [0, 1])
    }

    @Test("fair replacement admits an immigrant only by beating a resident")
    func fair() {
        let pairs = ImmigrantReplacement.fair.placements(residents: [5, 1, 3, 0], immigrants: [-10, 7, 2])
        // Best immigrant 7 replaces the worst resident 0; 2 replaces 1; -10 beats nobody.
        #expect(pairs.map(\.resident) == [3, 1])
        #expect(pairs.map(\.immigrant) == [1, 2])
        #expect(ImmigrantReplacement.fair.placements(residents: [5, 6], immigrants: [1, 2]).isEmpty)
    }
}
