import Foundation
import Kernels
import Networks

/// A zoo of trained networks as `atoll zoo` writes it, read for pre-training.
///
/// `DIR/index.json`: `{"format": "atoll-zoo", "version": 1, "task": "digits", "entries": [{"file":
/// "…safetensors", "network": "mlp:64-32-10", "seed": 0, "step": 500, "fitness": -0.31,
/// "train_accuracy": 0.93, "test_accuracy": 0.91}, …]}`. Each file holds one genome under PyTorch's
/// names; its spec is the file's `atoll.network` metadata when present, else the entry's `network`
/// (a shorthand or spec text). A *network* is one `(network, seed)` pair; its entries are the
/// checkpoints saved along its training. This reader depends on the file format only.
public struct NetworkZoo {
    /// One saved checkpoint.
    public struct Entry: Decodable, Sendable {
        public var file: String
        public var network: String
        public var seed: UInt64
        public var step: Int
        public var fitness: Double
        public var trainAccuracy: Double?
        public var testAccuracy: Double?

        /// The network this checkpoint belongs to.
        public var networkKey: String { "\(network)#\(seed)" }

        enum CodingKeys: String, CodingKey {
            case file, network, seed, step, fitness, trainAccuracy = "train_accuracy", testAccuracy = "test_accuracy"
        }
    }

    private struct Index: Decodable {
        var format: String
        var version: Int
        var task: String
        var entries: [Entry]
    }

    /// Errors naming the zoo file at fault.
    public struct ZooError: Error, CustomStringConvertible {
        public let file: String
        public let message: String
        public var description: String { "\(file): \(message)" }
    }

    public let directory: String
    public let task: String
    public let entries: [Entry]

    /// Reads `directory/index.json`.
    ///
    /// - Throws: `ZooError` when the index is missing, malformed, of another format or version.
    public init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ZooError(file: path, message: "missing: not a zoo, or its atoll zoo run did not finish (the index is written last)")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let index: Index
        do {
            index = try decoder.decode(Index.self, from: data)
        } catch {
            throw ZooError(file: path, message: "not a valid zoo index: \(error)")
        }
        guard index.format == "atoll-zoo" else { throw ZooError(file: path, message: "format is '\(index.format)', expected 'atoll-zoo'") }
        guard index.version == 1 else { throw ZooError(file: path, message: "version \(index.version) is not supported (expected 1)") }
        guard !index.entries.isEmpty else { throw ZooError(file: path, message: "the zoo lists no networks") }
        self.directory = directory
        task = index.task
        entries = index.entries
    }

    /// The spec and genome of `entry`.
    ///
    /// - Throws: `ZooError` naming the file.
    public func load(_ entry: Entry) throws -> (spec: NetworkSpec, genome: [Float]) {
        let path = (directory as NSString).appendingPathComponent(entry.file)
        do {
            let tensors = try SafeTensors.read(path: path)
            let spec = try NetworkSpec.parse(tensors.metadata["atoll.network"] ?? entry.network)
            return (spec, try tensors.genome(for: try ParameterLayout(spec: spec)))
        } catch let error as NetworkSpecError {
            throw ZooError(file: path, message: "network spec: \(error.message)")
        } catch {
            throw ZooError(file: path, message: "\(error)")
        }
    }

    /// Splits the entries by network (never by checkpoint): for each spec, `round(fraction · m)` of
    /// its `m` networks (at least one when `m ≥ 2` and `fraction > 0`) are held out, chosen with the
    /// stream `(seed, "zoo-held-out")`; all checkpoints of a held-out network are held out.
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
        return (entries.filter { !heldOutKeys.contains($0.networkKey) }, entries.filter { heldOutKeys.contains($0.networkKey) })
    }
}
