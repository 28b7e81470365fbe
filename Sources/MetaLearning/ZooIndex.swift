import Foundation
import Kernels
import Networks

/// The index of a zoo: a folder of trained networks, the meta-learner's training set (`atoll zoo`
/// writes it, `atoll pretrain` reads it and splits it with `split(heldOut:seed:)`).
///
/// `DIR/index.json` lists every saved network, one entry per (network, training step):
///
///     {"format": "atoll-zoo", "version": 1, "task": "digits",
///      "entries": [{"file": "s0-net-000-step-00500.safetensors", "network": "mlp:64-32-10",
///                   "seed": 0, "step": 500, "fitness": -0.31,
///                   "train_accuracy": 0.93, "test_accuracy": 0.91}, …]}
///
/// `file` is a safetensors file in the same folder with the network's PyTorch tensor names and
/// the full spec as JSON in its metadata (`atoll.network`); `network` is the spec as given on the
/// command line (a shorthand or a spec file's path). `fitness` is the task's default fitness on
/// the training split (`neg_cross_entropy` for classification, `neg_mse` for regression); the
/// accuracies are absent for regression. A fitness that is not finite (a diverged network) is
/// written as the string `"-inf"`, `"inf"` or `"nan"`.
///
/// A *network* is one `(network, seed)` pair (`Entry.networkKey`); its entries are the
/// checkpoints saved along its training. The index is written last and atomically, so a folder
/// without one is a zoo whose run did not finish.
public struct ZooIndex: Codable, Equatable, Sendable {
    /// The `format` value of every zoo index.
    public static let formatName = "atoll-zoo"
    /// The version this code writes and reads.
    public static let currentVersion = 1
    /// The index's file name inside the zoo folder.
    public static let fileName = "index.json"

    public var format: String
    public var version: Int
    /// The task the networks were trained and scored on (`digits`, `csv:PATH`).
    public var task: String
    public var entries: [Entry]

    /// One saved network.
    public struct Entry: Codable, Equatable, Sendable {
        /// File name inside the zoo folder.
        public var file: String
        /// The network spec as given to `atoll zoo`.
        public var network: String
        /// The seed of its initialisation and minibatches.
        public var seed: UInt64
        /// Training steps taken when it was saved (0: the initialisation).
        public var step: Int
        /// The task's fitness on the training split, higher is better.
        public var fitness: Double
        public var trainAccuracy: Double?
        public var testAccuracy: Double?

        /// The network this checkpoint belongs to: `network#seed`.
        public var networkKey: String { "\(network)#\(seed)" }

        public init(
            file: String, network: String, seed: UInt64, step: Int, fitness: Double, trainAccuracy: Double?,
            testAccuracy: Double?
        ) {
            self.file = file
            self.network = network
            self.seed = seed
            self.step = step
            self.fitness = fitness
            self.trainAccuracy = trainAccuracy
            self.testAccuracy = testAccuracy
        }

        enum CodingKeys: String, CodingKey {
            case file, network, seed, step, fitness
            case trainAccuracy = "train_accuracy"
            case testAccuracy = "test_accuracy"
        }

        /// The entry's file inside the zoo folder `directory`.
        public func path(in directory: String) -> String {
            (directory as NSString).appendingPathComponent(file)
        }

        /// The entry's network spec and genome, read from its safetensors file.
        ///
        /// The spec comes from the file's `atoll.network` metadata, or, when that is missing,
        /// from `network` parsed as a shorthand or spec text.
        /// - Throws: `LoadError.invalidFile` naming the file and the problem.
        public func load(in directory: String) throws -> (spec: NetworkSpec, genome: [Float]) {
            let path = path(in: directory)
            do {
                let tensors = try SafeTensors.read(path: path)
                let spec = try NetworkSpec.parse(tensors.metadata["atoll.network"] ?? network)
                return (spec, try tensors.genome(for: try ParameterLayout(spec: spec)))
            } catch let error as SafeTensorsError {
                throw LoadError.invalidFile(path: path, message: error.description)
            } catch let error as NetworkSpecError {
                throw LoadError.invalidFile(path: path, message: "network spec: \(error.message)")
            }
        }
    }

    /// Why a zoo could not be read.
    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case missingDirectory(String)
        /// The folder exists but holds no index.
        case missingIndex(directory: String)
        case invalidIndex(path: String, message: String)
        /// The index lists a file that is not in the folder.
        case missingFile(index: String, file: String)
        case invalidFile(path: String, message: String)

        public var description: String {
            switch self {
            case .missingDirectory(let directory):
                "zoo folder '\(directory)' does not exist"
            case .missingIndex(let directory):
                "'\(directory)' has no \(ZooIndex.fileName): it is not a zoo, or its atoll zoo run did not finish "
                    + "(the index is written last); rerun atoll zoo with --force"
            case .invalidIndex(let path, let message):
                "\(path): \(message)"
            case .missingFile(let index, let file):
                "\(index) lists '\(file)', which is not in the zoo folder"
            case .invalidFile(let path, let message):
                "\(path): \(message)"
            }
        }
    }

    public init(task: String, entries: [Entry]) {
        format = Self.formatName
        version = Self.currentVersion
        self.task = task
        self.entries = entries
    }

    /// The index's path in the zoo folder `directory`.
    public static func path(in directory: String) -> String {
        (directory as NSString).appendingPathComponent(fileName)
    }

    /// Reads and checks `directory/index.json`: format and version, at least one entry, file names
    /// that are plain, distinct names of files present in the folder.
    ///
    /// - Throws: `LoadError` naming the folder, the index or the file at fault.
    public static func load(directory: String) throws -> ZooIndex {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LoadError.missingDirectory(directory)
        }
        let indexPath = path(in: directory)
        guard fm.fileExists(atPath: indexPath) else { throw LoadError.missingIndex(directory: directory) }
        let index: ZooIndex
        do {
            index = try decoder.decode(ZooIndex.self, from: try Data(contentsOf: URL(fileURLWithPath: indexPath)))
        } catch let DecodingError.keyNotFound(key, context) {
            throw LoadError.invalidIndex(
                path: indexPath, message: "missing field '\(key.stringValue)' at \(describe(context.codingPath))")
        } catch let DecodingError.typeMismatch(type, context) {
            throw LoadError.invalidIndex(
                path: indexPath, message: "field \(describe(context.codingPath)) should be \(type)")
        } catch let DecodingError.valueNotFound(type, context) {
            throw LoadError.invalidIndex(
                path: indexPath, message: "field \(describe(context.codingPath)) should be \(type) but is null")
        } catch {
            throw LoadError.invalidIndex(path: indexPath, message: "not valid JSON: \(error.localizedDescription)")
        }
        guard index.format == formatName else {
            throw LoadError.invalidIndex(
                path: indexPath, message: "format is '\(index.format)', expected '\(formatName)'")
        }
        guard index.version == currentVersion else {
            throw LoadError.invalidIndex(
                path: indexPath,
                message: "version \(index.version) is not supported (this atoll reads version \(currentVersion))")
        }
        guard !index.entries.isEmpty else {
            throw LoadError.invalidIndex(path: indexPath, message: "the zoo lists no networks")
        }
        var seen = Set<String>()
        for (position, entry) in index.entries.enumerated() {
            guard !entry.file.isEmpty, !entry.file.contains("/"), entry.file != "..", entry.file != "." else {
                throw LoadError.invalidIndex(
                    path: indexPath,
                    message: "entries[\(position)].file '\(entry.file)' should be a file name inside the zoo folder")
            }
            guard seen.insert(entry.file).inserted else {
                throw LoadError.invalidIndex(
                    path: indexPath, message: "entries[\(position)].file '\(entry.file)' is listed twice")
            }
            guard fm.fileExists(atPath: entry.path(in: directory)) else {
                throw LoadError.missingFile(index: indexPath, file: entry.file)
            }
        }
        return index
    }

    /// Splits the entries by network (never by checkpoint): for each spec, `round(fraction · m)` of
    /// its `m` networks (at least one and at most `m − 1` when `m ≥ 2` and `fraction > 0`) are held
    /// out, chosen with the stream `(seed, "zoo-held-out")`; all checkpoints of a held-out network
    /// are held out. Both parts keep the index's order.
    public func split(heldOut fraction: Double, seed: UInt64) -> (train: [Entry], heldOut: [Entry]) {
        var stream = RandomStream(seed: seed, purpose: "zoo-held-out")
        var networksBySpec: [String: [String]] = [:]
        var specOrder: [String] = []
        for entry in entries where !(networksBySpec[entry.network]?.contains(entry.networkKey) ?? false) {
            if networksBySpec[entry.network] == nil { specOrder.append(entry.network) }
            networksBySpec[entry.network, default: []].append(entry.networkKey)
        }
        var heldOutKeys = Set<String>()
        for spec in specOrder {
            var keys = networksBySpec[spec]!
            stream.shuffle(&keys)
            var count = Int((Double(keys.count) * fraction).rounded())
            if fraction > 0 && keys.count >= 2 { count = min(max(count, 1), keys.count - 1) }
            heldOutKeys.formUnion(keys.prefix(count))
        }
        return (
            entries.filter { !heldOutKeys.contains($0.networkKey) },
            entries.filter { heldOutKeys.contains($0.networkKey) }
        )
    }

    /// Writes `directory/index.json` atomically (a temporary file renamed into place).
    public func write(directory: String) throws {
        try Self.encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(in: directory)), options: .atomic)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    private static func describe(_ path: [CodingKey]) -> String {
        path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
