/// The settings of a configuration that a run's results depend on, by key path, as a checkpoint
/// records them: a resume compares them with the run folder's `config.yaml` and refuses a
/// mismatch, naming every differing key.
///
/// That is every key (`RunConfig.keyPathValues()`: seed, task, network layout, islands count and
/// population, topology, migration, the whole `evolution` section, latent and meta settings,
/// allreduce mode) except those that change how a run is driven but not its numbers: the `stop`
/// section (extend a run with `atoll resume --generations`), the `output` and `watchdog` sections, the external
/// evaluator's timeout, where the data and the pre-trained meta-learner are found (a resume
/// reads the meta-learner from the checkpoint), and how often ranks compare checksums.
public struct ResultSettings: Codable, Equatable, Sendable {
    /// Key path → value as JSON text.
    public var values: [String: String]

    /// Top-level sections and key paths left out (see the type's discussion).
    static let ignoredSections: Set<String> = ["stop", "output", "watchdog"]
    static let ignoredKeys: Set<String> = [
        "task.options.timeout", "task.options.data", "meta.pretrained", "meta.checksum_every",
    ]

    public init(_ config: RunConfig) throws {
        values = try config.keyPathValues().filter { path, _ in
            let section = String(path.prefix { $0 != "." && $0 != "[" })
            return !Self.ignoredSections.contains(section) && !Self.ignoredKeys.contains(path)
        }
    }

    /// One line per key whose value differs, in key order: `islands.count: 4 in the checkpoint,
    /// 2 in config.yaml`.
    public func differences(from config: ResultSettings) -> [String] {
        Set(values.keys).union(config.values.keys).sorted().compactMap { key in
            let recorded = values[key]
            let current = config.values[key]
            guard recorded != current else { return nil }
            return "\(key): \(recorded ?? "(not set)") in the checkpoint, \(current ?? "(not set)") in config.yaml"
        }
    }
}
