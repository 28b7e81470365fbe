import Foundation
import Testing

@testable import Evolution

/// `MeanOptimizer` against a float64 numpy transcription of its formulas
/// (scripts/fixtures/mean_es_fixture.py), and its checks and checkpoint.
struct MeanOptimizerTests {
    struct Fixture: Decodable {
        struct Run: Decodable {
            let kind: String
            let learning_rate, weight_decay: Float
            let max_speed: Float?
            let means: [[Double]]
        }
        struct Optimizer: Decodable {
            let mean, gradients: [Float]
            let runs: [Run]
        }
        let optimizer: Optimizer
    }

    static func fixture() throws -> Fixture {
        let url = try #require(
            Bundle.module.url(forResource: "mean_es", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Four steps of each kind (sgd; momentum and adam with weight decay; clipup hitting its speed
    /// limit) follow the reference to float rounding.
    @Test func stepsFollowTheReference() throws {
        let f = try Self.fixture().optimizer
        let d = f.mean.count
        for run in f.runs {
            let kind = try #require(MeanOptimizer.Kind(rawValue: run.kind))
            var optimizer = MeanOptimizer(
                kind: kind, dimension: d, learningRate: run.learning_rate, maxSpeed: run.max_speed,
                weightDecay: run.weight_decay)
            var mean = f.mean
            for (t, expected) in run.means.enumerated() {
                var gradient = Array(f.gradients[t * d..<(t + 1) * d])
                let before = mean
                optimizer.step(&gradient, mean: &mean)
                for j in 0..<d {
                    #expect(
                        abs(Double(mean[j]) - expected[j]) <= 2e-6 * max(1, abs(expected[j])),
                        "\(run.kind) step \(t + 1) gene \(j): \(mean[j]) vs \(expected[j])")
                    #expect(
                        gradient[j] == mean[j] - before[j] || abs(gradient[j] - (mean[j] - before[j])) <= 1e-6,
                        "the gradient buffer holds the change made")
                }
            }
            #expect(optimizer.steps == run.means.count)
        }
    }

    /// ClipUp's velocity never exceeds max_speed, whatever the gradient's scale.
    @Test func clipUpRespectsItsSpeedLimit() {
        var optimizer = MeanOptimizer(kind: .clipup, dimension: 3, learningRate: 0.5, maxSpeed: 0.3)
        var mean: [Float] = [0, 0, 0]
        for _ in 0..<5 {
            var gradient: [Float] = [1e6, -2e6, 3]
            let before = mean
            optimizer.step(&gradient, mean: &mean)
            let moved = zip(mean, before).map { Double($0 - $1) }
            #expect(moved.map { $0 * $0 }.reduce(0, +).squareRoot() <= 0.3 * (1 + 1e-6))
        }
    }

    /// Adam's first step moves every coordinate by about η, whatever the gradient's scale (the
    /// bias-corrected ratio is ±1).
    @Test func adamFirstStepIsTheLearningRate() {
        var optimizer = MeanOptimizer(kind: .adam, dimension: 3, learningRate: 0.01)
        var mean: [Float] = [0, 0, 0]
        var gradient: [Float] = [1e-3, -50, 7]
        optimizer.step(&gradient, mean: &mean)
        #expect(abs(mean[0] - 0.01) < 1e-6 && abs(mean[1] + 0.01) < 1e-6 && abs(mean[2] - 0.01) < 1e-6)
    }

    @Test func stateRoundTripsThroughJSON() throws {
        var optimizer = MeanOptimizer(kind: .adam, dimension: 4, learningRate: 0.01, weightDecay: 0.005)
        var mean: [Float] = [1, 2, 3, 4]
        var gradient: [Float] = [0.1, -0.2, 0.3, -0.4]
        optimizer.step(&gradient, mean: &mean)
        let decoded = try JSONDecoder().decode(MeanOptimizer.self, from: JSONEncoder().encode(optimizer))
        #expect(decoded == optimizer)
        var a = optimizer
        var b = decoded
        var ma = mean
        var mb = mean
        var ga: [Float] = [1, 1, 1, 1]
        var gb: [Float] = [1, 1, 1, 1]
        a.step(&ga, mean: &ma)
        b.step(&gb, mean: &mb)
        #expect(ma == mb)
    }
}

/// `FitnessShaping`.
struct FitnessShapingTests {
    @Test func centredRanksSpanMinusHalfToHalf() {
        let w = FitnessShaping.centredRanks.weights([3, -1, 10, .nan, 3])
        // Ranked best first: 10 (row 2), 3 (row 0), 3 (row 4: tie, later row), -1 (row 1), NaN (row 3).
        #expect(w == [0.25, -0.25, 0.5, -0.5, 0])
    }

    @Test func everyShapingSumsToZero() {
        let fitness: [Float] = [0.3, -2, 5, 1, 1, -7, 2.5, .infinity]
        for shaping in FitnessShaping.allCases {
            let w = shaping.weights(fitness)
            #expect(abs(w.reduce(0, +)) < 1e-5, "\(shaping)")
            #expect(w[2] == w.max(), "\(shaping): the best row weighs most")
        }
        #expect(FitnessShaping.snesUtilities.weights(fitness)[5] < 0)
    }

    @Test func rawSubtractsTheMeanAndFloorsNonFinite() {
        let w = FitnessShaping.raw.weights([1, 3, -.infinity])
        // −∞ counts as the lowest finite value, 1: mean 5/3.
        #expect(abs(w[0] + 2.0 / 3) < 1e-6 && abs(w[1] - 4.0 / 3) < 1e-6 && abs(w[2] + 2.0 / 3) < 1e-6)
    }
}
