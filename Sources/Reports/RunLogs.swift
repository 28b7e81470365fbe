import Foundation
import IslandModel

/// Everything a run folder holds that a report shows, read as it is: a finished run, one still in
/// progress, or one that was killed. Missing files give empty records; a last line cut off in the
/// middle (a run writing while it is read, or killed) is left out; lines that do not decode are
/// counted in `skippedLines`.
public struct RunLogs {
    public let directory: URL
    /// `config.yaml` as written.
    public let configText: String
    /// The parsed config, or `nil` with the reason in `configProblem` (then the report shows the
    /// text without the parts that need the config).
    public let config: RunConfig?
    public let configProblem: String?
    /// `metrics.jsonl`: one record per island and generation, in file order.
    public let metrics: [IslandMetrics]
    /// The `"kind": "full_evaluation"` lines of `metrics.jsonl`: the run's best network scored on
    /// whole splits every `task.options.eval_every` generations and after the last, in file order.
    public let fullEvaluations: [FullEvaluationRecord]
    /// `timings.jsonl`: one record per rank and generation.
    public let timings: [RankTiming]
    /// `meta.jsonl`: one record per meta-learner round.
    public let meta: [MetaRoundRecord]
    /// `summary.json`, present once the run has finished.
    public let summary: RunSummary?
    /// `environment.json`, written with the summary (ignored when older than `config.yaml`, that
    /// is, left over from a run the folder held before `--force`).
    public let environment: RunEnvironment?
    /// Lines of the three logs that could not be decoded.
    public let skippedLines: Int

    /// Reads the run folder `directory`.
    ///
    /// - Throws: `ReportError` when the folder does not exist or holds no `config.yaml`.
    public init(directory: URL) throws {
        self.directory = directory
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ReportError("\(directory.path) is not a folder")
        }
        let configURL = directory.appendingPathComponent("config.yaml")
        guard let text = try? String(contentsOf: configURL, encoding: .utf8) else {
            throw ReportError("\(directory.path) is not a run folder: it has no readable config.yaml")
        }
        configText = text
        do {
            config = try RunConfig.load(path: configURL.path)
            configProblem = nil
        } catch {
            config = nil
            configProblem = "\(error)"
        }
        var skipped = 0
        let metricsLines: [MetricsLine] = Self.lines(
            directory.appendingPathComponent("metrics.jsonl"), skipped: &skipped)
        metrics = metricsLines.compactMap { if case .island(let m) = $0 { m } else { nil } }
        fullEvaluations = metricsLines.compactMap { if case .fullEvaluation(let e) = $0 { e } else { nil } }
        timings = Self.lines(directory.appendingPathComponent("timings.jsonl"), skipped: &skipped)
        meta = Self.lines(directory.appendingPathComponent("meta.jsonl"), skipped: &skipped)
        skippedLines = skipped
        summary = try? JSONDecoder().decode(
            RunSummary.self, from: Data(contentsOf: directory.appendingPathComponent("summary.json")))
        let environmentURL = directory.appendingPathComponent(RunEnvironment.fileName)
        let environmentDate = (try? fm.attributesOfItem(atPath: environmentURL.path)[.modificationDate]) as? Date
        let configDate = (try? fm.attributesOfItem(atPath: configURL.path)[.modificationDate]) as? Date
        if let environmentDate, let configDate, environmentDate >= configDate {
            environment = try? JSONDecoder().decode(RunEnvironment.self, from: Data(contentsOf: environmentURL))
        } else {
            environment = nil
        }
    }

    /// The records of a JSON-lines file: complete lines only (a file not ending in a newline has
    /// its last line still being written, and it counts in `skipped`). All lines are decoded as one
    /// JSON array; if that fails, line by line, counting the lines that fail in `skipped`.
    static func lines<T: Decodable>(_ url: URL, skipped: inout Int) -> [T] {
        guard let data = try? Data(contentsOf: url), !data.isEmpty else { return [] }
        // Byte ranges of the complete, non-blank lines.
        var ranges: [Range<Int>] = []
        var array = Data()
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            for i in 0..<bytes.count where bytes[i] == 0x0A {
                if (start..<i).contains(where: { bytes[$0] != 0x20 && bytes[$0] != 0x0D }) { ranges.append(start..<i) }
                start = i + 1
            }
            if start < bytes.count { skipped += 1 }
            array.reserveCapacity(start + 2)
            array.append(0x5B)
            for (k, range) in ranges.enumerated() {
                if k > 0 { array.append(0x2C) }
                array.append(UnsafeBufferPointer(rebasing: bytes[range]))
            }
            array.append(0x5D)
        }
        let decoder = JSONDecoder()
        if let all = try? decoder.decode([T].self, from: array) { return all }
        var records: [T] = []
        for range in ranges {
            if let record = try? decoder.decode(T.self, from: data.subdata(in: range)) {
                records.append(record)
            } else {
                skipped += 1
            }
        }
        return records
    }
}

/// A line of `metrics.jsonl`: an island's generation, or (`"kind": "full_evaluation"`) a full
/// evaluation of the run's best network.
enum MetricsLine: Decodable {
    case island(IslandMetrics)
    case fullEvaluation(FullEvaluationRecord)

    private enum Keys: String, CodingKey { case kind }

    init(from decoder: Decoder) throws {
        let kind = try decoder.container(keyedBy: Keys.self).decodeIfPresent(String.self, forKey: .kind)
        if kind == "full_evaluation" {
            self = .fullEvaluation(try FullEvaluationRecord(from: decoder))
        } else {
            self = .island(try IslandMetrics(from: decoder))
        }
    }
}

/// A report that cannot be made, with the reason.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
