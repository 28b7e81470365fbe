import Foundation
import Testing

@testable import Evolution

/// `PGPE` and `OpenAIES` against float64 numpy transcriptions of their updates
/// (scripts/fixtures/mean_es_fixture.py: EvoJAX's pair-wise PGPE formulas), their mirrored
/// sampling, immigrants, convergence and checkpoint.
struct PGPETests {
    struct Fixture: Decodable {
        struct Intact: Decodable {
            let mean, sigma, genes, fitness: [Float]
            let learning_rate, learning_rate_sigma, max_change: Float
            let mean_after, sigma_after: [Double]
        }
        struct Immigrant: Decodable {
            let genes, fitness: [Float]
            let immigrant_row: Int
            let mean_after, sigma_after: [Double]
        }
        struct OpenES: Decodable {
            let mean, genes, fitness: [Float]
            let sigma, learning_rate, weight_decay: Float
            let mean_after: [Double]
        }
        let pgpe_intact: Intact
        let pgpe_immigrant: Immigrant
        let openes: OpenES
    }

    static func fixture() throws -> Fixture {
        let url = try #require(
            Bundle.module.url(forResource: "mean_es", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func expectClose(_ actual: [Float], _ expected: [Double], _ what: String, tolerance: Double = 2e-5) {
        #expect(actual.count == expected.count)
        for j in actual.indices {
            #expect(
                abs(Double(actual[j]) - expected[j]) <= tolerance * max(1, abs(expected[j])),
                "\(what) \(j): \(actual[j]) vs \(expected[j])")
        }
    }

    /// A PGPE whose σ is the fixture's: the fixture's σ differs per gene, so the strategy is built
    /// with σ₀ and its σ replaced through a decode of its own JSON.
    static func pgpe(_ f: Fixture.Intact) throws -> PGPE {
        let made = PGPE(
            mean: f.mean, stepSize: 1, sampleCount: f.fitness.count - 1,
            optimizer: MeanOptimizer(kind: .adam, dimension: f.mean.count, learningRate: f.learning_rate),
            learningRateSigma: f.learning_rate_sigma, maxSigmaChange: f.max_change, evaluatesCenter: true)
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(made)) as? [String: Any])
        object["sigma"] = f.sigma.withUnsafeBytes { Data($0) }.base64EncodedString()
        return try JSONDecoder().decode(PGPE.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func updateOnIntactPairsFollowsEvoJAXFormulas() throws {
        let f = try Self.fixture().pgpe_intact
        var pgpe = try Self.pgpe(f)
        #expect(pgpe.sigma == f.sigma)
        var population = Population(count: 0, dimension: f.mean.count)
        pgpe.ask(into: &population, key: StreamKey(seed: 1, generation: 1))
        #expect(population.count == f.fitness.count)
        population.genes = f.genes
        population.fitness = f.fitness
        pgpe.tell(population)
        Self.expectClose(pgpe.sigma, f.sigma_after, "σ")
        Self.expectClose(pgpe.mean, f.mean_after, "μ")
    }

    @Test func immigrantJoinsTheMeanGradientClippedButNotSigmas() throws {
        let fixture = try Self.fixture()
        let f = fixture.pgpe_immigrant
        var pgpe = try Self.pgpe(fixture.pgpe_intact)
        var population = Population(count: 0, dimension: pgpe.dimension)
        pgpe.ask(into: &population, key: StreamKey(seed: 1, generation: 1))
        population.genes = f.genes
        population.fitness = f.fitness
        population.ids[f.immigrant_row] = Population.individualID(island: 3, generation: 0, index: 0)
        pgpe.tell(population)
        Self.expectClose(pgpe.sigma, f.sigma_after, "σ")
        Self.expectClose(pgpe.mean, f.mean_after, "μ")
    }

    @Test func openAIESUpdateFollowsThePaper() throws {
        let f = try Self.fixture().openes
        var es = OpenAIES(
            mean: f.mean, stepSize: f.sigma, sampleCount: f.fitness.count,
            optimizer: MeanOptimizer(
                kind: .adam, dimension: f.mean.count, learningRate: f.learning_rate, weightDecay: f.weight_decay),
            evaluatesCenter: false)
        var population = Population(count: 0, dimension: f.mean.count)
        es.ask(into: &population, key: StreamKey(seed: 1, generation: 1))
        population.genes = f.genes
        population.fitness = f.fitness
        es.tell(population)
        Self.expectClose(es.mean, f.mean_after, "μ")
    }

    /// Row 0 is the mean; rows 2j+1 and 2j+2 are mirror images around it; the draw depends on the
    /// key alone.
    @Test func samplesAreMirroredPairsAroundTheCenter() {
        let mean: [Float] = [0.5, -1, 2, 0]
        var pgpe = PGPE(
            mean: mean, stepSize: 0.3, sampleCount: 6,
            optimizer: MeanOptimizer(kind: .adam, dimension: 4, learningRate: 0.01))
        var population = Population(count: 0, dimension: 4)
        pgpe.ask(into: &population, key: StreamKey(seed: 9, island: 2, generation: 5))
        #expect(population.count == 7)
        #expect(Array(population.row(0)) == mean)
        #expect(pgpe.candidateKind(row: 0) == "center" && pgpe.meanRow == 0)
        for pair in 0..<3 {
            for j in 0..<4 {
                let plus = population.genes[(1 + 2 * pair) * 4 + j] - mean[j]
                let minus = population.genes[(2 + 2 * pair) * 4 + j] - mean[j]
                #expect(abs(plus + minus) <= 1e-6)
                #expect(plus != 0)
            }
        }
        var again = Population(count: 0, dimension: 4)
        var other = PGPE(
            mean: mean, stepSize: 0.3, sampleCount: 6,
            optimizer: MeanOptimizer(kind: .adam, dimension: 4, learningRate: 0.01))
        other.ask(into: &again, key: StreamKey(seed: 9, island: 2, generation: 5))
        #expect(again.genes == population.genes)
    }

    /// On a 20-D sphere from 1 everywhere (4.47 from the optimum), PGPE with Adam brings the mean
    /// within 0.05 of the optimum in 300 generations of λ = 20 (its σ shrinks with the distance);
    /// OpenAI-ES with Adam, whose σ is fixed at 0.1, within 0.25 (Adam at a constant η = 0.05
    /// jitters by about η per coordinate around the optimum).
    @Test func bothReduceASphere() {
        let d = 20
        func sphere(_ population: Population) -> [Float] {
            (0..<population.count).map { -Float(BenchmarkFunction.sphere.value(population.row($0))) }
        }
        var pgpe = PGPE(
            mean: [Float](repeating: 1, count: d), stepSize: 0.3, sampleCount: 20,
            optimizer: MeanOptimizer(kind: .adam, dimension: d, learningRate: 0.05))
        var openes = OpenAIES(
            mean: [Float](repeating: 1, count: d), stepSize: 0.1, sampleCount: 20,
            optimizer: MeanOptimizer(kind: .adam, dimension: d, learningRate: 0.05))
        var a = Population(count: 0, dimension: d)
        var b = Population(count: 0, dimension: d)
        for generation in 0..<300 {
            let key = StreamKey(seed: 4, generation: generation)
            if generation > 0 {
                pgpe.tell(a)
                openes.tell(b)
            }
            pgpe.ask(into: &a, key: key)
            openes.ask(into: &b, key: key)
            a.fitness = sphere(a)
            b.fitness = sphere(b)
        }
        let pgpeDistance = pgpe.mean.map { Double($0 * $0) }.reduce(0, +).squareRoot()
        let openesDistance = openes.mean.map { Double($0 * $0) }.reduce(0, +).squareRoot()
        #expect(pgpeDistance < 0.05, "PGPE ended \(pgpeDistance) from the optimum")
        #expect(openesDistance < 0.25, "OpenAI-ES ended \(openesDistance) from the optimum")
        #expect(pgpe.sigma.max()! < 0.3)
    }

    /// A checkpoint between ask and tell resumes to the same bits.
    @Test func checkpointResumesBitForBit() throws {
        let d = 5
        var strategy = StrategyAlgorithm(
            PGPE(
                mean: [Float](repeating: 0.5, count: d), stepSize: 0.2, sampleCount: 8,
                optimizer: MeanOptimizer(kind: .clipup, dimension: d, learningRate: 0.1)))
        var population = Population(count: 9, dimension: d)
        var scratch = Population(count: 0, dimension: d)
        for generation in 0..<3 {
            _ = strategy.nextGeneration(&population, scratch: &scratch, key: StreamKey(seed: 2, generation: generation))
            population.fitness = (0..<population.count).map {
                -Float(BenchmarkFunction.rastrigin.value(population.row($0)))
            }
        }
        var copy = try JSONDecoder().decode(StrategyAlgorithm<PGPE>.self, from: JSONEncoder().encode(strategy))
        var population2 = population
        _ = strategy.nextGeneration(&population, scratch: &scratch, key: StreamKey(seed: 2, generation: 3))
        _ = copy.nextGeneration(&population2, scratch: &scratch, key: StreamKey(seed: 2, generation: 3))
        #expect(population.genes == population2.genes)
        #expect(copy.strategy == strategy.strategy)
    }
}
