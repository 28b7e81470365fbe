import Evolution
import Foundation
import Networks
import Testing

@testable import IslandModel

/// PGPE, OpenAI-ES and the mean optimizer in whole runs: the settings' checks, the algorithm the
/// config builds, and the evaluated mean as the island's result on a minibatch task.
@Suite("Mean optimizers in runs", .serialized)
struct MeanOptimizerRunTests {
    @Test("bad optimizer, shaping and mirrored settings are errors naming the key")
    func badSettings() throws {
        let cases: [(String, String)] = [
            ("evolution: {algorithm: pgpe, optimizer: {learning_rate: 0}}", "evolution.optimizer.learning_rate"),
            ("evolution: {algorithm: pgpe, optimizer: {learning_rate: -0.1}}", "evolution.optimizer.learning_rate"),
            ("evolution: {algorithm: openes, optimizer: {kind: adam, beta1: 1}}", "evolution.optimizer.beta1"),
            ("evolution: {algorithm: openes, optimizer: {kind: adam, beta2: -0.5}}", "evolution.optimizer.beta2"),
            (
                "evolution: {algorithm: snes, optimizer: {kind: momentum, momentum: 1.5}}",
                "evolution.optimizer.momentum"
            ),
            ("evolution: {algorithm: pgpe, optimizer: {kind: clipup, max_speed: 0}}", "evolution.optimizer.max_speed"),
            ("evolution: {algorithm: pgpe, optimizer: {kind: adam, epsilon: 0}}", "evolution.optimizer.epsilon"),
            ("evolution: {algorithm: pgpe, optimizer: {weight_decay: -1}}", "evolution.optimizer.weight_decay"),
            ("evolution: {algorithm: pgpe, optimizer: {kind: rmsprop}}", "evolution.optimizer.kind"),
            ("evolution: {algorithm: pgpe, optimizer: {learning_rat: 0.1}}", "evolution.optimizer.learning_rat"),
            ("evolution: {algorithm: ga, optimizer: {kind: adam}}", "evolution.optimizer"),
            ("evolution: {algorithm: cmaes, optimizer: {kind: adam}}", "evolution.optimizer"),
            ("evolution: {algorithm: sep_cmaes, optimizer: {kind: sgd}}", "evolution.optimizer"),
            ("evolution: {algorithm: ga, shaping: centred_ranks}", "evolution.shaping"),
            ("evolution: {algorithm: pgpe, shaping: ranks}", "evolution.shaping"),
            ("evolution: {algorithm: pgpe, sigma_max_change: 0}", "evolution.sigma_max_change"),
            ("evolution: {algorithm: pgpe, sigma_max_change: 1}", "evolution.sigma_max_change"),
            ("islands: {population: 7}\nevolution: {algorithm: pgpe}", "islands.population"),
            ("islands: {population: 9}\nevolution: {algorithm: openes}", "islands.population"),
            (
                "evolution: {algorithm: snes, shaping: centred_ranks}\nlatent: {enabled: true, mode: anchored}",
                "evolution.shaping"
            ),
            ("evolution: {algorithm: pgpe, guided_rank: 2}", "evolution.guided_rank"),
            ("evolution: {algorithm: eggroll, guided_rank: -1}", "evolution.guided_rank"),
            ("evolution: {algorithm: eggroll, guided_rank: 2, guided_share: 1.5}", "evolution.guided_share"),
            ("evolution: {algorithm: eggroll, learning_rate_sigma: 0}", "evolution.learning_rate_sigma"),
            ("evolution: {algorithm: cmaes, center: true}", "evolution.center"),
        ]
        for (yaml, key) in cases {
            #expect(throws: ConfigError.self, "\(yaml)") { try RunConfig.parse(yaml) }
            do { _ = try RunConfig.parse(yaml) } catch { #expect("\(error)".contains(key), "\(yaml): \(error)") }
        }
    }

    /// Defaults: PGPE and OpenAI-ES evaluate their mean and run Adam (OpenAI-ES with weight decay
    /// 0.005) with centred ranks; SNES keeps its plain step unless an optimizer is named, which
    /// then fills unset keys with Adam's defaults.
    @Test func defaultsPerAlgorithm() throws {
        let pgpe = try RunConfig.parse("evolution: {algorithm: pgpe}").evolution
        #expect(pgpe.evaluatesCenter && pgpe.strategyShaping == .centredRanks)
        let adam = try #require(pgpe.meanOptimizer(dimension: 3))
        #expect(adam.kind == .adam && adam.learningRate == 0.01 && adam.weightDecay == 0)
        let openes = try RunConfig.parse("evolution: {algorithm: openes}").evolution
        #expect(openes.evaluatesCenter && openes.meanOptimizer(dimension: 3)?.weightDecay == 0.005)
        let snes = try RunConfig.parse("evolution: {algorithm: snes}").evolution
        #expect(!snes.evaluatesCenter && snes.meanOptimizer(dimension: 3) == nil && snes.strategyShaping == nil)
        let snesAdam = try RunConfig.parse("evolution: {algorithm: snes, optimizer: {learning_rate: 0.02}}").evolution
        #expect(
            snesAdam.meanOptimizer(dimension: 3)?.kind == .adam
                && snesAdam.meanOptimizer(dimension: 3)?.learningRate == 0.02)
        let clipup = try RunConfig.parse("evolution: {algorithm: pgpe, optimizer: {kind: clipup, max_speed: 0.3}}")
            .evolution
        let made = try #require(clipup.meanOptimizer(dimension: 3))
        #expect(made.maxSpeed == 0.3 && made.learningRate == 0.15, "ClipUp's η defaults to max_speed / 2")
        let off = try RunConfig.parse("evolution: {algorithm: pgpe, center: false}").evolution
        #expect(!off.evaluatesCenter)
    }

    /// `configs/tiny-pgpe.yaml` scores minibatches: every generation the island's best is its
    /// evaluated mean (row 0), so the last checkpoint's best genome is row 0 of its population,
    /// and the island's strategy is PGPE with the configured Adam (6 asks, 5 updates).
    /// EGGROLL's additions reach `LowRankES`: the center (an extra row), σ adapted per block,
    /// the guided rank in the code's rank; its defaults are today's (no center, σ fixed, no guidance).
    @Test func eggrollSettingsBuildTheStrategy() throws {
        let network = try Network(spec: NetworkSpec.parse("mlp:6-4-3"))
        let mean = [Float](repeating: 0, count: network.parameterCount)
        let plain = try RunConfig.parse("evolution: {algorithm: eggroll}")
        let es = try #require((plain.islandSearch(best: mean, network: network) as? CodeSearch)?.lowRank)
        #expect(!es.center && es.learningRateSigma == 0 && es.guidedRank == 0 && es.basis == nil && es.meanRow == nil)
        let full = try RunConfig.parse(
            "evolution: {algorithm: eggroll, rank: 2, center: true, learning_rate_sigma: 0.1, guided_rank: 1, guided_share: 0.25}"
        )
        let guided = try #require((full.islandSearch(best: mean, network: network) as? CodeSearch)?.lowRank)
        #expect(guided.center && guided.rowCount == full.islands.population + 1 && guided.meanRow == 0)
        #expect(guided.learningRateSigma == 0.1 && guided.codeRank == 3 && guided.guidedShare == 0.25)
        #expect(guided.sigmas.count == 4 && guided.basis != nil)
    }

    /// Runs `config` on one rank and reads its islands back from the last checkpoint.
    static func lastCheckpoint(of config: RunConfig) throws -> [Island] {
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(config, ranks: 1, in: directory)
        let checkpoints = directory.appendingPathComponent("checkpoints")
        let last = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted().last!
        return try (0..<config.islands.count).map { index in
            let file = checkpoints.appendingPathComponent(last).appendingPathComponent(
                String(format: "island-%05d.bin", index))
            return try Island(
                reading: RunIdentity.split(Data(contentsOf: file)).payload, source: file.path,
                readSearch: config.readIslandSearch)
        }
    }

    @Test func minibatchRunHandsBackTheMean() throws {
        var config = try IslandAlgorithmRunTests.config("tiny-pgpe")
        config.migration.interval = 100  // no immigrant may take row 0's place or the island's best
        for island in try Self.lastCheckpoint(of: config) {
            let strategy = try #require((island.algorithm as? StrategyAlgorithm<PGPE>)?.strategy)
            #expect(
                strategy.optimizer.kind == .adam && strategy.optimizer.learningRate == 0.03
                    && strategy.optimizer.steps == 5)
            #expect(island.population.count == 9)
            #expect(
                island.bestGenome == Array(island.population.row(0))
                    && island.bestFitness == island.population.fitness[0])
            #expect(Array(island.population.row(0)) == strategy.mean)
        }
    }

    /// `configs/tiny-eggroll-guided.yaml` (EGGROLL with its center, on minibatches): the island's
    /// best is its evaluated mean, the code of zeros in row 0, decoded.
    @Test func minibatchEggrollHandsBackTheMean() throws {
        var config = try IslandAlgorithmRunTests.config("tiny-eggroll-guided")
        config.migration.interval = 100
        for island in try Self.lastCheckpoint(of: config) {
            let strategy = try #require(island.algorithm as? LowRankES)
            #expect(island.population.count == 9 && island.population.row(0).allSatisfy { $0 == 0 })
            #expect(island.bestGenome == strategy.mean && island.bestFitness == island.population.fitness[0])
            #expect(strategy.basis!.isReady.contains(true) && strategy.sigmas.contains { $0 != 0.1 })
        }
    }
}
