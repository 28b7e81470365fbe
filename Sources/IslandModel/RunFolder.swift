import Foundation
import Networks

/// A run's folder as rank 0 keeps it: the checks before anything is written, the exclusive lock
/// held for the whole run, `config.yaml`, the three logs it appends to, and the results written at
/// the end. (Checkpoints go to `checkpoints/` through `CheckpointStore`, which every rank writes
/// its own islands into; their file names come from here.)
///
/// Files: `run.lock`, `config.yaml`, `metrics.jsonl`, `timings.jsonl`, `meta.jsonl`,
/// `checkpoints/GGGGGGGG/`, `best.safetensors`, `summary.json`, `meta-learner.safetensors` and
/// `meta-learner.json` (absolute latent); `report.html` and `environment.json` are the `Reports`
/// module's.
final class RunFolder {
    let directory: URL
    /// Held as long as this object lives.
    let lock: RunLock
    let metrics: JSONLinesLog
    let timings: JSONLinesLog
    let meta: JSONLinesLog

    /// What a run writes into its folder (`run.lock` aside, which outlives every run).
    static let products = [
        "config.yaml", "metrics.jsonl", "timings.jsonl", "meta.jsonl", "best.safetensors", "summary.json",
        "checkpoints",
        "meta-learner.safetensors", "meta-learner.json",
    ]

    /// Whether `directory` holds a finished run's results (`best.safetensors` and `summary.json`).
    static func hasResults(_ directory: URL) -> Bool {
        ["best.safetensors", "summary.json"].allSatisfy {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
    }

    /// Checks, touching nothing, that a run may start in `directory`: it is not a file, no other
    /// run holds it (unless this one already does: `locked`), and it holds no run unless `force`.
    static func check(_ directory: URL, force: Bool, locked: Bool = false) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw RunError("\(directory.path) is a file, not a run folder: give another --out")
        }
        if !locked { try RunLock.checkFree(directory) }
        let existing = products.filter { fm.fileExists(atPath: directory.appendingPathComponent($0).path) }
        guard existing.isEmpty || force else {
            throw RunError(
                "\(directory.path) already holds a run (\(existing.joined(separator: ", "))): continue it with `atoll resume \(shellQuoted(directory.path))`, or pass --force to replace it"
            )
        }
    }

    /// A new run's folder: takes the lock, checks again (another run may have started meanwhile),
    /// clears an old run with `force`, and writes `config.yaml`.
    init(creating directory: URL, config: RunConfig, force: Bool) throws {
        self.directory = directory
        lock = try RunLock(directory: directory, purpose: "atoll run")
        try Self.check(directory, force: force, locked: true)
        let fm = FileManager.default
        for name in Self.products where fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
            try fm.removeItem(at: directory.appendingPathComponent(name))
        }
        try Data(try config.yaml().utf8).write(to: directory.appendingPathComponent("config.yaml"), options: .atomic)
        (metrics, timings, meta) = try Self.openLogs(directory)
    }

    /// A resumed run's folder: takes the lock, rewrites `config.yaml` when given one (`resume
    /// --generations`), and cuts the logs back to the lengths `state` recorded (`Run.checkResumable`
    /// has checked they hold at least that much).
    init(resuming directory: URL, config: RunConfig?, state: RunState) throws {
        self.directory = directory
        lock = try RunLock(directory: directory, purpose: "atoll resume")
        if let config {
            try Data(try config.yaml().utf8).write(
                to: directory.appendingPathComponent("config.yaml"), options: .atomic)
        }
        (metrics, timings, meta) = try Self.openLogs(directory)
        try metrics.truncate(toByteCount: state.metricsBytes)
        try timings.truncate(toByteCount: state.timingsBytes)
        try meta.truncate(toByteCount: state.metaBytes)
    }

    private static func openLogs(_ directory: URL) throws -> (JSONLinesLog, JSONLinesLog, JSONLinesLog) {
        (
            try JSONLinesLog(url: directory.appendingPathComponent("metrics.jsonl")),
            try JSONLinesLog(url: directory.appendingPathComponent("timings.jsonl")),
            try JSONLinesLog(url: directory.appendingPathComponent("meta.jsonl"))
        )
    }

    /// The checkpoint file of island `index`: `island-NNNNN.bin`.
    static func islandFileName(_ index: Int) -> String {
        let digits = String(index)
        return "island-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".bin"
    }

    /// The end of a run: `best.safetensors` (PyTorch names, with `metadata` and the network spec),
    /// `summary.json`, and the meta-learner's files.
    func writeResults(
        summary: RunSummary, best genome: [Float], network: Network, metadata: [String: String],
        metaLearner: [String: Data]
    ) throws {
        var metadata = metadata
        let specEncoder = JSONEncoder()
        specEncoder.outputFormatting = .sortedKeys
        metadata["atoll.network"] = String(decoding: try specEncoder.encode(network.spec), as: UTF8.self)
        try SafeTensors(genome: genome, layout: network.layout, metadata: metadata)
            .write(path: directory.appendingPathComponent("best.safetensors").path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(to: directory.appendingPathComponent("summary.json"), options: .atomic)
        for (name, data) in metaLearner { try data.write(to: directory.appendingPathComponent(name), options: .atomic) }
    }
}
