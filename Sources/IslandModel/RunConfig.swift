import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks
import Yams

/// One YAML file for a whole run. Every field has a default (shown in `configs/reference.yaml`);
/// an unknown key or a bad value is an error naming the key and the file.
public struct RunConfig: Codable, Equatable, Sendable {
    /// Seed of every random stream of the run.
    public var seed: UInt64 = 1
    public var task = TaskSection()
    /// The network being evolved: `mlp:64-32-10`, a path to a YAML/JSON spec (relative to the
    /// config file), or the spec inline.
    public var network = NetworkSource.text("mlp:64-32-10")
    public var islands = IslandsSection()
    public var topology = TopologySection()
    public var migration = MigrationSection()
    public var evolution = EvolutionSection()
    public var latent = LatentSection()
    public var meta = MetaSection()
    public var stop = StopSection()
    public var output = OutputSection()
    /// `reproducible` (exact fixed-point sum: the same bits on any number of ranks) or `fast`
    /// (float `MPI_SUM`).
    public var allreduce = AllreduceMode.reproducible
    /// Ends a run whose generation takes far longer than its recent ones (a rank that stopped answering).
    public var watchdog = WatchdogSection()

    public enum AllreduceMode: String, Codable, Sendable, CaseIterable {
        case reproducible, fast
    }

    public init() {}

    enum CodingKeys: String, ConfigKey {
        case seed, task, network, islands, topology, migration, evolution, latent, meta, stop, output, allreduce,
            watchdog
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = RunConfig()
        if let negative = try? c.decodeIfPresent(Int.self, forKey: .seed), negative < 0 {
            throw ConfigError.invalidValue(
                path: "seed", message: "must be a whole number ≥ 0 (at most 18446744073709551615), got \(negative)")
        }
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        task = try c.decodeIfPresent(TaskSection.self, forKey: .task) ?? d.task
        network = try c.decodeIfPresent(NetworkSource.self, forKey: .network) ?? d.network
        islands = try c.decodeIfPresent(IslandsSection.self, forKey: .islands) ?? d.islands
        topology = try c.decodeIfPresent(TopologySection.self, forKey: .topology) ?? d.topology
        migration = try c.decodeIfPresent(MigrationSection.self, forKey: .migration) ?? d.migration
        evolution = try c.decodeIfPresent(EvolutionSection.self, forKey: .evolution) ?? d.evolution
        latent = try c.decodeIfPresent(LatentSection.self, forKey: .latent) ?? d.latent
        meta = try c.decodeIfPresent(MetaSection.self, forKey: .meta) ?? d.meta
        stop = try c.decodeIfPresent(StopSection.self, forKey: .stop) ?? d.stop
        output = try c.decodeIfPresent(OutputSection.self, forKey: .output) ?? d.output
        allreduce = try c.decodeIfPresent(AllreduceMode.self, forKey: .allreduce) ?? d.allreduce
        watchdog = try c.decodeIfPresent(WatchdogSection.self, forKey: .watchdog) ?? d.watchdog
    }

    /// Reads and checks a config file.
    ///
    /// - Throws: `ConfigError.file` naming the file and the key at fault.
    public static func load(path: String) throws -> RunConfig {
        let text: String
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError.file(path: path, message: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw ConfigError.file(path: path, message: "is a directory, not a config file")
        }
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError.file(path: path, message: "cannot read the file (\(FileErrorReason.of(error)))")
        }
        do {
            return try parse(text, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent())
        } catch let error as ConfigError {
            throw ConfigError.file(path: path, message: error.description)
        }
    }

    /// Parses YAML (or JSON) text, reads the network spec (a path is taken relative to
    /// `baseDirectory`) and validates everything.
    public static func parse(
        _ text: String, baseDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) throws -> RunConfig {
        var config: RunConfig
        do {
            config = try YAMLDecoder().decode(RunConfig.self, from: text.isEmpty ? "{}" : text)
        } catch {
            throw ConfigError.unwrapping(error)
        }
        config.network = try config.network.resolved(relativeTo: baseDirectory)
        try config.validate()
        return config
    }

    /// The YAML of the resolved configuration (what a run writes to `config.yaml`).
    public func yaml() throws -> String {
        try YAMLEncoder().encode(self)
    }

    /// Checks every value that decoding alone cannot.
    public func validate() throws {
        func fail(_ path: String, _ message: String) -> ConfigError { .invalidValue(path: path, message: message) }
        try validateFinite()
        guard islands.count >= 1 else { throw fail("islands.count", "expected at least 1, got \(islands.count)") }
        guard islands.count < 1 << 16 else {
            throw fail("islands.count", "expected fewer than 65536, got \(islands.count)")
        }
        guard islands.population >= 2 else {
            throw fail("islands.population", "expected at least 2, got \(islands.population)")
        }
        guard migration.interval >= 1 else {
            throw fail("migration.interval", "expected at least 1, got \(migration.interval)")
        }
        guard migration.count >= 0 && migration.count < islands.population else {
            throw fail(
                "migration.count",
                "expected 0 to islands.population − 1 (\(islands.population - 1)), got \(migration.count)")
        }
        _ = try topology.make(islandCount: islands.count)
        try evolution.validate(population: islands.population)
        try stop.validate()
        guard output.checkpointEvery >= 0 else {
            throw fail("output.checkpoint_every", "expected 0 (never) or more, got \(output.checkpointEvery)")
        }
        try latent.validate(algorithm: evolution.algorithm, generations: stop.generations)
        if latent.enabled && latent.mode == .anchored, let shaping = evolution.shaping, shaping != .snesUtilities {
            throw fail(
                "evolution.shaping",
                "the anchored latent ranks with SNES's utilities; \(shaping.rawValue) is for snes, eggroll, pgpe and openes"
            )
        }
        try meta.validate()
        try watchdog.validate()
    }
}

extension ConfigError {
    /// The configuration error behind `error`: Yams wraps errors thrown while decoding in
    /// `DecodingError.dataCorrupted`, with the original as the underlying error.
    static func unwrapping(_ error: Error) -> ConfigError {
        if let config = error as? ConfigError { return config }
        if case .dataCorrupted(let context) = error as? DecodingError, let inner = context.underlyingError {
            return unwrapping(inner)
        }
        if let decoding = error as? DecodingError { return describing(decoding) }
        if let meta = error as? MetaLearnerConfigError {
            return .invalidValue(path: "meta.architecture.\(meta.field)", message: meta.message)
        }
        return .invalidValue(path: "(file)", message: "\(error)")
    }

    /// A `DecodingError` as the key path and what was expected.
    static func describing(_ error: DecodingError) -> ConfigError {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "(top level)" : p.replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return .invalidValue(
                path: path(context), message: "expected \(Self.typeName(type)); \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return .invalidValue(path: path(context), message: "expected \(Self.typeName(type)), found nothing")
        case .keyNotFound(let key, let context):
            return .invalidValue(path: path(context), message: "missing key '\(key.stringValue)'")
        case .dataCorrupted(let context):
            return .invalidValue(path: path(context), message: context.debugDescription)
        @unknown default:
            return .invalidValue(path: "(file)", message: "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "a whole number (from −9223372036854775808 to 9223372036854775807)"
        case is UInt64.Type: "a whole number from 0 to 18446744073709551615"
        case is Double.Type, is Float.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}
