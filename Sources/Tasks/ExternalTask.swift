import Foundation
import Networks

/// Fitness computed by a program the user writes, in any language, speaking `ExternalProtocol`
/// over its stdin and stdout (docs/external-protocol.md; example: examples/external_evaluator.py).
///
/// The program is started at the first `evaluate`, with the header describing that network (its
/// spec as JSON and every tensor's name, shape and offset), and kept running for later batches.
/// A later call with a network of a different spec restarts it with the new header. Each batch
/// (and the start-up handshake) must be answered within `timeout` seconds. After a failure (crash,
/// hang, wrong count) the next call starts a fresh process. Calls are serialised with a lock.
public final class ExternalTask: FitnessTask, @unchecked Sendable {
    /// Program and arguments, looked up on `PATH`.
    public let command: [String]
    /// Seconds allowed per batch and for the start-up handshake.
    public let timeout: Double
    /// The longest `timeout` the config may give, in seconds (10⁶).
    public static let maxTimeout = 1e6
    public let name: String
    public let fitnessName: String
    public var inputSize: Int? { nil }
    public var outputSize: Int? { nil }

    private let lock = NSLock()
    private var evaluator: ExternalEvaluator?
    private var evaluatorSpec: NetworkSpec?

    /// - Parameters:
    ///   - command: the program and its arguments.
    ///   - timeout: seconds per batch.
    ///   - fitnessName: what the program's fitness means (for logs and reports).
    public init(command: [String], timeout: Double = 60, fitnessName: String = "external_fitness") {
        precondition(!command.isEmpty, "empty command")
        self.command = command
        self.timeout = timeout
        self.name = "external:" + command.joined(separator: " ")
        self.fitnessName = fitnessName
    }

    /// The header `ExternalProtocol` sends for `network`.
    public static func header(for network: Network) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let specJSON = (try? encoder.encode(network.spec)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let tensors = network.layout.tensors.map {
            ExternalProtocol.TensorEntry(name: $0.name, shape: $0.shape, offset: $0.offset)
        }
        return ExternalProtocol.header(parameterCount: network.parameterCount, specJSON: specJSON, tensors: tensors)
    }

    public func evaluate(
        genomes: UnsafeBufferPointer<Float>, populationSize: Int, network: Network,
        generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>
    ) throws {
        lock.lock()
        defer { lock.unlock() }
        if evaluator == nil || evaluatorSpec != network.spec {
            evaluator = nil
            evaluator = try ExternalEvaluator(
                command: command, header: Self.header(for: network), parameterCount: network.parameterCount,
                timeout: timeout)
            evaluatorSpec = network.spec
        }
        do {
            try evaluator!.evaluate(
                genomes: genomes, count: populationSize, generation: generation, seed: seed, fitness: fitness)
        } catch {
            evaluator = nil
            throw error
        }
    }

    public func probeInputs(count: Int, seed: UInt64) -> [Float]? { nil }

    public func differentiableLoss(for network: Network) -> (any DifferentiableLoss)? { nil }

    public func report(genome: [Float], network: Network, generation: Int, seed: UInt64) throws -> TaskReport {
        let value = try evaluate(
            genomes: genome, populationSize: 1, network: network, generation: generation, seed: seed)[0]
        return TaskReport(task: name, fitnessName: fitnessName, fitness: Double(value))
    }
}
