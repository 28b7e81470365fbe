import Collectives
import Evolution
import Foundation
import Kernels
import Networks
import Tasks
import Testing

@testable import IslandModel

/// Whole runs of every island algorithm (SNES, CMA-ES, sep-CMA-ES, SNES in the anchored latent):
/// the same bits at any rank count, resume on another rank count, migration into a strategy.
@Suite("Island algorithms", .serialized)
struct IslandAlgorithmRunTests {
    static func config(_ name: String) throws -> RunConfig {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../configs/\(name).yaml"
        ).standardized.path
        return try RunConfig.load(path: path)
    }

    static let names = [
        "tiny-snes", "tiny-cmaes", "tiny-sep-cmaes", "tiny-anchored", "tiny-anchored-decoder", "tiny-eggroll",
        "tiny-pgpe", "tiny-openes",
    ]

    @Test("each algorithm gives the same metrics.jsonl and best.safetensors on 1, 2 and 4 ranks", arguments: names)
    func sameBits(name: String) throws {
        let config = try Self.config(name)
        var outputs: [(Data, Data)] = []
        for ranks in [1, 2, 4] {
            let directory = RunTests.folder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try RunTests.run(config, ranks: ranks, in: directory)
            outputs.append(
                (try RunTests.bytes(directory, "metrics.jsonl"), try RunTests.bytes(directory, "best.safetensors")))
        }
        // One line per island and generation, besides the full evaluations of a minibatch run.
        let lines = String(decoding: outputs[0].0, as: UTF8.self).split(separator: "\n").filter {
            !$0.contains("\"full_evaluation\"")
        }
        #expect(lines.count == 4 * (config.stop.generations! + 1))
        for other in outputs.dropFirst() {
            #expect(other.0 == outputs[0].0)
            #expect(other.1 == outputs[0].1)
        }
    }

    @Test(
        "each algorithm resumed from its second-last checkpoint on another rank count ends as an uninterrupted run",
        arguments: names)
    func resume(name: String) throws {
        let config = try Self.config(name)
        let reference = RunTests.folder()
        let interrupted = RunTests.folder()
        defer { for d in [reference, interrupted] { try? FileManager.default.removeItem(at: d) } }
        try RunTests.run(config, ranks: 1, in: reference)
        try RunTests.run(config, ranks: 2, in: interrupted)
        // As if killed after the second-last checkpoint (two are kept).
        let fm = FileManager.default
        let checkpoints = interrupted.appendingPathComponent("checkpoints")
        let folders = try fm.contentsOfDirectory(atPath: checkpoints.path).sorted()
        #expect(folders.count == 2)
        try fm.removeItem(at: checkpoints.appendingPathComponent(folders.last!))
        for file in ["best.safetensors", "summary.json"] {
            try fm.removeItem(at: interrupted.appendingPathComponent(file))
        }
        try RunTests.resume(interrupted, ranks: 4)
        #expect(try RunTests.bytes(reference, "metrics.jsonl") == RunTests.bytes(interrupted, "metrics.jsonl"))
        #expect(try RunTests.bytes(reference, "best.safetensors") == RunTests.bytes(interrupted, "best.safetensors"))
    }

    @Test("an evolution strategy improves on its generation 0, and migration moves genomes between its islands")
    func strategiesLearnAndMigrate() throws {
        for name in ["tiny-snes", "tiny-cmaes", "tiny-sep-cmaes", "tiny-eggroll"] {
            var config = try Self.config(name)
            config.stop.generations = 12
            let directory = RunTests.folder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try RunTests.run(config, ranks: 2, in: directory)
            let lines = try String(decoding: RunTests.bytes(directory, "metrics.jsonl"), as: UTF8.self).split(
                separator: "\n"
            )
            .map { try JSONDecoder().decode(IslandMetrics.self, from: Data($0.utf8)) }
            for island in 0..<4 {
                let mine = lines.filter { $0.island == island }
                #expect(mine.last!.bestEver > mine.first!.best, "\(name), island \(island)")
                #expect(mine.last!.bytesMigrated > 0, "\(name), island \(island) received migrants")
            }
        }
    }

    @Test("the anchored latent logs which kind of candidate scored best, once its basis exists")
    func anchoredKinds() throws {
        let config = try Self.config("tiny-anchored")
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(config, ranks: 1, in: directory)
        let lines = try String(decoding: RunTests.bytes(directory, "metrics.jsonl"), as: UTF8.self).split(
            separator: "\n"
        )
        .map { try JSONDecoder().decode(IslandMetrics.self, from: Data($0.utf8)) }
        // Generation 0 is the initial population (no kind); generations 1…3 precede the basis (k = 3).
        #expect(lines.filter { $0.generation == 0 }.allSatisfy { $0.bestKind == nil })
        #expect(lines.filter { (1...3).contains($0.generation) }.allSatisfy { $0.bestKind == "full" })
        let later = Set(lines.filter { $0.generation > 3 }.compactMap(\.bestKind))
        #expect(!later.isEmpty && later.isSubset(of: ["full", "latent", "guided"]))
    }

    /// The anchored latent with the meta-learner: its rounds (after generations 2, 4, 6, 8) are
    /// logged with phase `anchored`; decoded and focused candidates exist only after the first,
    /// and the checkpoint keeps the meta-learner and each island's archive (the config also has
    /// `evolution.center`: kind `center`).
    @Test func anchoredDecoderAndFocus() throws {
        let config = try Self.config("tiny-anchored-decoder")
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(config, ranks: 2, in: directory)
        let rounds = try String(decoding: RunTests.bytes(directory, "meta.jsonl"), as: UTF8.self).split(separator: "\n")
            .map { try JSONDecoder().decode(MetaRoundRecord.self, from: Data($0.utf8)) }
        #expect(
            rounds.map(\.generation) == [2, 4, 6, 8]
                && rounds.allSatisfy { $0.phase == "anchored" && $0.retention > 0 && $0.evaluations == 0 })
        let lines = try String(decoding: RunTests.bytes(directory, "metrics.jsonl"), as: UTF8.self).split(
            separator: "\n"
        )
        .map { try JSONDecoder().decode(IslandMetrics.self, from: Data($0.utf8)) }
        #expect(lines.filter { $0.generation <= 2 }.allSatisfy { $0.bestKind != "decoded" && $0.bestKind != "focus" })
        let later = Set(lines.filter { $0.generation > 2 }.compactMap(\.bestKind))
        #expect(
            later.contains("decoded") && later.contains("focus")
                && later.isSubset(of: ["full", "latent", "guided", "decoded", "focus", "center"]))
        let timings = try String(decoding: RunTests.bytes(directory, "timings.jsonl"), as: UTF8.self).split(
            separator: "\n"
        )
        .map { try JSONDecoder().decode(RankTiming.self, from: Data($0.utf8)) }
        #expect(
            timings.filter { $0.generation > 2 }.allSatisfy { $0.decode > 0 }
                && timings.filter { $0.generation <= 2 }.allSatisfy { $0.decode == 0 })
        let checkpoints = directory.appendingPathComponent("checkpoints")
        let last = checkpoints.appendingPathComponent(
            try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted().last!)
        #expect(FileManager.default.fileExists(atPath: last.appendingPathComponent("meta-learner.safetensors").path))
        let file = last.appendingPathComponent("island-00000.bin")
        let island = try Island(
            reading: RunIdentity.split(Data(contentsOf: file)).payload, source: file.path,
            readSearch: config.readIslandSearch)
        let strategy = try #require((island.algorithm as? StrategyAlgorithm<SubspaceSNES>)?.strategy)
        #expect(
            island.archive?.count == 32 && strategy.decoderActive && strategy.rho.count == 8
                && !strategy.focusWeights.isEmpty)
    }

    /// EGGROLL keeps codes, not genomes: the island's checkpoint holds `P` codes of 198 numbers
    /// (mlp:64-8-10 at rank 2) and two genomes (the mean, the best), less than the `P × 610`
    /// genes of a genome population; its best genome and emigrants are whole networks.
    @Test func eggrollKeepsCodes() throws {
        let config = try Self.config("tiny-eggroll")
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(config, ranks: 1, in: directory)
        let checkpoints = directory.appendingPathComponent("checkpoints")
        let last = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted().last!
        let file = checkpoints.appendingPathComponent(last).appendingPathComponent("island-00000.bin")
        let island = try Island(
            reading: RunIdentity.split(Data(contentsOf: file)).payload, source: file.path,
            readSearch: config.readIslandSearch)
        let algorithm = try #require(island.algorithm as? LowRankES)
        #expect(
            island.population.dimension == 198 && algorithm.codeDimension == 198 && algorithm.genomeDimension == 610)
        #expect(island.population.count == 8 && island.bestGenome.count == 610)
        #expect(try Data(contentsOf: file).count < 8 * 610 * 4)
        let message = Migration.messageSize(count: 1, dimension: 610)
        #expect(island.bytesReceived > 0 && island.bytesReceived % message == 0)
    }

    /// The glue between EGGROLL's codes (`LowRankES`, blocks from `RunConfig.lowRankBlocks`) and
    /// the task's low-rank forward (`LowRankGenomes`): both read a code the same way, so scoring
    /// codes as they are equals scoring the genomes `LowRankES` decodes, up to rounding.
    @Test func lowRankScoresEqualDecodedScores() throws {
        let network = try Network(spec: try NetworkSpec.parse("mlp:64-8-10"))
        let task = try DatasetTask.digits(batch: 50)
        var stream = RandomStream(seed: 1, purpose: "test")
        var es = LowRankES(
            mean: network.initializedGenome(stream: &stream), blocks: RunConfig.lowRankBlocks(network.layout),
            rank: 3, stepSize: 0.3, populationSize: 6)
        #expect(es.codeDimension == LowRankGenomes.codeOffsets(network.layout, rank: 3).length)
        #expect(task.supportsLowRank(network))
        var codes = Population(count: 0, dimension: 1)
        es.ask(into: &codes, key: StreamKey(seed: 1, generation: 1))
        var genomes = [Float](repeating: 0, count: 6 * network.parameterCount)
        genomes.withUnsafeMutableBufferPointer { es.decode(codes, rows: 0..<6, into: $0) }
        let decoded = try task.evaluate(genomes: genomes, populationSize: 6, network: network, generation: 1, seed: 1)
        var low = [Float](repeating: 0, count: 6)
        try es.mean.withUnsafeBufferPointer { mean in
            try codes.genes.withUnsafeBufferPointer { c in
                try low.withUnsafeMutableBufferPointer { out in
                    try task.evaluate(
                        lowRank: LowRankGenomes(
                            anchor: mean.baseAddress!, codes: c.baseAddress!, stride: es.codeDimension, rank: 3,
                            sigma: 0.3),
                        populationSize: 6, network: network, generation: 1, seed: 1, fitness: out)
                }
            }
        }
        #expect(Set(decoded).count == 6)
        for i in 0..<6 {
            #expect(
                abs(low[i] - decoded[i]) <= 1e-5 * max(1, abs(decoded[i])), "genome \(i): \(low[i]) vs \(decoded[i])")
        }
    }

    @Test(
        "best_ever is never below the population's best, migration generations included",
        arguments: ["tiny", "tiny-snes", "tiny-eggroll"])
    func bestEverCountsImmigrants(name: String) throws {
        let config = try Self.config(name)
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(config, ranks: 2, in: directory)
        let lines = try String(decoding: RunTests.bytes(directory, "metrics.jsonl"), as: UTF8.self).split(
            separator: "\n"
        )
        .map { try JSONDecoder().decode(IslandMetrics.self, from: Data($0.utf8)) }
        #expect(lines.count == 4 * (config.stop.generations! + 1))
        for line in lines {
            #expect(line.bestEver >= line.best, "generation \(line.generation), island \(line.island)")
        }
    }

    @Test("bad algorithm and anchored-latent settings are errors naming the key")
    func badSettings() throws {
        let cases: [(String, String)] = [
            ("evolution: {algorithm: snes, sigma0: 0}", "evolution.sigma0"),
            ("evolution: {algorithm: snes, learning_rate_sigma: -1}", "evolution.learning_rate_sigma"),
            ("evolution: {algorithm: cmaes}\nlatent: {enabled: true}", "latent.mode"),
            ("evolution: {algorithm: eggroll}\nlatent: {enabled: true}", "latent.mode"),
            ("evolution: {algorithm: eggroll}\nlatent: {enabled: true, mode: anchored}", "latent.mode"),
            ("evolution: {algorithm: eggroll, rank: 0}", "evolution.rank"),
            ("evolution: {algorithm: eggroll, tile: 0}", "evolution.tile"),
            ("evolution: {algorithm: ga}\nlatent: {enabled: true, mode: anchored}", "latent.mode"),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {rebuild_every: 0}}",
                "latent.anchored.rebuild_every"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {full_share: 1.5}}",
                "latent.anchored.full_share"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {full_share: 0.6, latent_share: 0.6}}",
                "latent.anchored.latent_share"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {dimension: 60}}\nstop: {generations: 50}",
                "latent.anchored.dimension"
            ),
            ("evolution: {algorithm: cmaes, center: true}", "evolution.center"),
            ("evolution: {algorithm: ga, center: true}", "evolution.center"),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {decoder_share: 1.5}}",
                "latent.anchored.decoder_share"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {decoder_share: -0.1}}",
                "latent.anchored.decoder_share"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {full_share: 0.5, decoder_share: 0.6}}",
                "latent.anchored.decoder_share"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {focus_share: 2}}",
                "latent.anchored.focus_share"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {decoder_share: 0.5, focus_share: 0.6}}",
                "latent.anchored.focus_share"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {focus_share: 0.2, focus_neurons: 0}}",
                "latent.anchored.focus_neurons"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {focus_neurons: 1.5}}",
                "latent.anchored.focus_neurons"
            ),
            (
                "evolution: {algorithm: snes}\nlatent: {enabled: true, mode: anchored, anchored: {decoder_shares: 0.2}}",
                "decoder_shares"
            ),
        ]
        for (yaml, key) in cases {
            #expect(throws: ConfigError.self, "\(yaml)") { try RunConfig.parse(yaml) }
            do { _ = try RunConfig.parse(yaml) } catch { #expect("\(error)".contains(key), "\(yaml): \(error)") }
        }
    }
}
