import Foundation
import IslandModel
import Networks
import Testing

@Suite("RunConfig")
struct RunConfigTests {
    func message(_ text: String) -> String {
        do {
            _ = try RunConfig.parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("an empty file is the defaults, and the resolved YAML parses back to the same config")
    func defaults() throws {
        let config = try RunConfig.parse("")
        var expected = RunConfig()
        expected.network = .inline(.mlp([64, 32, 10]))  // resolved: the run folder holds the spec itself
        #expect(config == expected)
        #expect(config.islands.count == 4 && config.stop.generations == 50 && config.allreduce == .reproducible)
        #expect(try RunConfig.parse(config.yaml()) == config)
    }

    @Test("fields are read from every section")
    func fields() throws {
        let config = try RunConfig.parse(
            """
            seed: 7
            task: {name: CartPole-v1, options: {episodes: 3}}
            network: mlp:4-16-2
            islands: {count: 6, population: 10}
            topology: {kind: torus}
            migration: {interval: 2, count: 1, emigrants: random, immigrants: fair}
            evolution: {selection: sus, crossover: sbx, sbx_eta: 5, mutation_rate: 0.2, elites: 2}
            stop: {generations: 3, patience: 10}
            output: {directory: /tmp/x, checkpoint_every: 1}
            allreduce: fast
            """)
        #expect(config.seed == 7 && config.task.name == "CartPole-v1" && config.task.options.episodes == 3)
        #expect(try config.network.spec().input == [4])
        #expect(try config.topology.make(islandCount: 6).edges.count == 6 * 3)  // 2×3 torus: 3 neighbours each
        #expect(config.migration.emigrants == .random && config.migration.immigrants == .fair)
        #expect(config.evolution.geneticAlgorithm().elites == 2)
        #expect(config.stop.criteria.maxStagnantGenerations == 10)
        #expect(config.allreduce == .fast)
    }

    @Test(
        "an unknown key is an error naming it with its path",
        arguments: [
            ("migration: {intervall: 3}", "migration.intervall"), ("islandz: 3", "'islandz'"),
            ("task: {name: digits, options: {fitnes: accuracy}}", "fitnes"),
            ("meta: {architecture: {widht: 3}}", "widht"),
        ])
    func unknownKey(text: String, expected: String) {
        let text = message(text)
        #expect(text.contains(expected), "\(text)")
    }

    @Test(
        "a wrong type or bad value names the key",
        arguments: [
            ("islands: {count: many}", "islands.count"), ("islands: {count: 0}", "islands.count"),
            ("migration: {count: 40}", "migration.count"), ("evolution: {algorithm: pso}", "evolution.algorithm"),
            ("topology: {kind: star}", "topology.kind"), ("stop: {generations: null}", "no stop criterion"),
            ("topology: {kind: edges, edges: [{source: 0, destination: 9}]}", "outside 0..<4"),
            ("network: mlp:64-x-10", "network"),
        ])
    func badValue(text: String, expected: String) {
        let text = message(text)
        #expect(text.contains(expected), "\(text)")
    }

    @Test(
        "a non-finite number (.inf, -.inf, .nan) is an error naming the key",
        arguments: [
            ("evolution: {mutation_sigma: .inf}", "evolution.mutation_sigma: expected a finite number, got +inf"),
            ("evolution: {blend_alpha: .inf}", "evolution.blend_alpha: expected a finite number, got +inf"),
            ("evolution: {sbx_eta: .nan}", "evolution.sbx_eta: expected a finite number, got nan"),
            (
                "evolution: {bounds: {low: -.inf, high: 1, handling: clip}}",
                "evolution.bounds.low: expected a finite number, got -inf"
            ),
            (
                "evolution: {bounds: {low: -1, high: .inf, handling: reflect}}",
                "evolution.bounds.high: expected a finite number, got +inf"
            ),
            ("stop: {target_fitness: .nan}", "stop.target_fitness: expected a finite number, got nan"),
            ("stop: {wall_time: .inf}", "stop.wall_time: expected a finite number, got +inf"),
            ("latent: {mutation_sigma: .inf}", "latent.mutation_sigma: expected a finite number, got +inf"),
            ("meta: {learning_rate: .inf}", "meta.learning_rate: expected a finite number, got +inf"),
            ("meta: {loss: {gap: .nan}}", "meta.loss.gap: expected a finite number, got nan"),
            (
                "topology: {kind: edges, edges: [{source: 0, destination: 1, probability: .nan}]}",
                "topology.edges[0].probability: expected a finite number, got nan"
            ),
        ])
    func nonFiniteValue(text: String, expected: String) {
        let text = message(text)
        #expect(text.contains(expected), "\(text)")
    }

    @Test("meta.pretrained naming a file without its meta-learner companion says which file is expected")
    func pretrainedWithoutCompanion() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = folder.appendingPathComponent("best.safetensors")
        try Data("not a meta-learner".utf8).write(to: weights)
        let text = message("latent: {enabled: true}\nmeta: {pretrained: \(weights.path)}\n")
        #expect(text.contains("meta.pretrained"), "\(text)")
        #expect(text.contains("its companion \(folder.appendingPathComponent("best.json").path) is missing"), "\(text)")
    }

    @Test("load names the file; a network path is read relative to the config")
    func load() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "input: [3]\nlayers: [{linear: 2}]\n".write(
            to: folder.appendingPathComponent("net.yaml"), atomically: true, encoding: .utf8)
        let good = folder.appendingPathComponent("good.yaml")
        try "network: net.yaml\n".write(to: good, atomically: true, encoding: .utf8)
        #expect(try RunConfig.load(path: good.path).network.spec().input == [3])
        let bad = folder.appendingPathComponent("bad.yaml")
        try "islands: {population: 1}\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try RunConfig.load(path: bad.path) }
        do { _ = try RunConfig.load(path: bad.path) } catch { #expect("\(error)".hasPrefix(bad.path)) }
        do { _ = try RunConfig.load(path: "/nonexistent.yaml") } catch {
            #expect("\(error)".contains("/nonexistent.yaml"))
        }
    }

    @Test(
        "a missing config, a directory given as config and a network spec path that names no file are one-line messages"
    )
    func fileProblems() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func failure(_ path: String) -> String {
            do {
                _ = try RunConfig.load(path: path)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let missing = folder.appendingPathComponent("missing.yaml").path
        #expect(failure(missing) == "\(missing): no such file")
        #expect(failure(folder.path) == "\(folder.path): is a directory, not a config file")
        for network in ["nets/missing.yaml", "missing.json"] {
            let config = folder.appendingPathComponent("run.yaml")
            try "network: \(network)\n".write(to: config, atomically: true, encoding: .utf8)
            let message = failure(config.path)
            #expect(message.contains("no such file: \(folder.appendingPathComponent(network).path)"), "\(message)")
            #expect(!message.contains("Mapping") && !message.contains("\n"), "\(message)")
        }
    }
}

/// The default generation limit applies only when `stop` names no criterion.
@Suite("Stop section defaults")
struct StopDefaultsTests {
    @Test("stop: {wall_time: 1} stops by time alone; no stop section stops after 50 generations")
    func otherCriterionDropsTheDefault() throws {
        #expect(try RunConfig.parse("stop: {wall_time: 1}").stop.generations == nil)
        #expect(try RunConfig.parse("stop: {evaluations: 640}").stop.generations == nil)
        #expect(try RunConfig.parse("").stop.generations == 50)
        #expect(try RunConfig.parse("stop: {generations: 7, wall_time: 1}").stop.generations == 7)
    }
}
