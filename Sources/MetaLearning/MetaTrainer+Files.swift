import Foundation
import Kernels
import Networks

/// The JSON half of a saved meta-learner (`meta-learner.json`); the safetensors half holds the
/// tensors.
public struct MetaLearnerState: Codable, Equatable, Sendable {
    /// Always `MetaLearnerState.formatName`.
    public var format: String
    public var version: Int
    public var config: MetaLearnerConfig
    public var training: MetaTrainingSettings
    public var step: Int
    public var normalizers: MetaLossTerms?
    /// The schedule of `training`, written out for readers.
    public var schedule: LearningRateSchedule
    /// Floats in the parameter buffer.
    public var parameterCount: Int

    public static let formatName = "atoll-meta-learner"
    public static let currentVersion = 1
}

/// Errors of reading a saved meta-learner.
public struct MetaLearnerFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

/// The file paths of a saved meta-learner: `FILE.safetensors`, `FILE.json`, `FILE.report.json`.
public struct MetaLearnerPaths: Sendable, Equatable {
    public let tensors: String
    public let state: String
    public let report: String

    /// From `path` with or without its `.safetensors` extension.
    public init(_ path: String) {
        let base = path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path
        tensors = base + ".safetensors"
        state = base + ".json"
        report = base + ".report.json"
    }
}

extension MetaTrainer {
    /// Tensor name prefixes of AdamW's moments in the safetensors file; parameters keep their
    /// table names (`encoder.embed.weight`, …).
    public static let firstMomentPrefix = "adamw.m."
    public static let secondMomentPrefix = "adamw.v."

    /// The JSON state.
    public var state: MetaLearnerState {
        MetaLearnerState(
            format: MetaLearnerState.formatName, version: MetaLearnerState.currentVersion, config: model.config,
            training: settings, step: step, normalizers: normalizers, schedule: settings.schedule,
            parameterCount: model.parameters.count)
    }

    /// Writes `paths.tensors` (parameters, then AdamW's `m` and `v`, each tensor under its table
    /// name with the moment prefixes) and `paths.state`. Each file is written to a temporary file
    /// and renamed, so a failure leaves existing files untouched.
    public func save(to paths: MetaLearnerPaths) throws {
        var tensors: [SafeTensors.Tensor] = []
        for (prefix, buffer) in [("", model.parameters), (Self.firstMomentPrefix, m), (Self.secondMomentPrefix, v)] {
            for entry in model.parameterTable.entries {
                tensors.append(
                    SafeTensors.Tensor(
                        name: prefix + entry.name, shape: entry.shape,
                        values: Array(buffer[entry.offset..<entry.offset + entry.count])))
            }
        }
        try SafeTensors(tensors: tensors, metadata: ["format": MetaLearnerState.formatName, "step": String(step)])
            .write(path: paths.tensors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(state).write(to: URL(fileURLWithPath: paths.state), options: .atomic)
        } catch {
            throw MetaLearnerFileError(file: paths.state, message: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a saved meta-learner and its training state.
    ///
    /// - Parameters:
    ///   - paths: the files.
    ///   - config: the configuration the caller expects; a file made for another one fails with an
    ///     error naming the first differing field. `nil` accepts the file's.
    ///   - settings: training settings to continue with; `nil` keeps the file's.
    /// - Throws: `MetaLearnerFileError` naming the file and what is wrong.
    public static func load(
        from paths: MetaLearnerPaths, config: MetaLearnerConfig? = nil, settings: MetaTrainingSettings? = nil
    ) throws -> MetaTrainer {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: paths.state))
        } catch {
            throw MetaLearnerFileError(file: paths.state, message: "cannot read: \(error.localizedDescription)")
        }
        if let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            guard header["format"] as? String == MetaLearnerState.formatName else {
                throw MetaLearnerFileError(
                    file: paths.state,
                    message:
                        "not a meta-learner file: format is \(header["format"] ?? "missing"), expected \(MetaLearnerState.formatName)"
                )
            }
            guard header["version"] as? Int == MetaLearnerState.currentVersion else {
                throw MetaLearnerFileError(
                    file: paths.state,
                    message:
                        "version \(header["version"] ?? "missing") is not supported; this build reads version \(MetaLearnerState.currentVersion)"
                )
            }
        }
        let state: MetaLearnerState
        do {
            state = try JSONDecoder().decode(MetaLearnerState.self, from: data)
        } catch {
            throw MetaLearnerFileError(file: paths.state, message: "invalid meta-learner state: \(error)")
        }
        if let config, config != state.config {
            let field = try differingField(config, state.config)
            throw MetaLearnerFileError(
                file: paths.state,
                message:
                    "made for another meta-learner configuration: \(field.name) is \(field.stored) in the file, \(field.expected) in the configuration"
            )
        }
        let model = try AttentionAutoencoder(config: state.config, seed: 0)
        guard model.parameters.count == state.parameterCount else {
            throw MetaLearnerFileError(
                file: paths.state,
                message: "holds \(state.parameterCount) parameters, its configuration makes \(model.parameters.count)")
        }
        let trainer = try MetaTrainer(model: model, settings: settings ?? state.training)
        trainer.step = state.step
        trainer.normalizers = state.normalizers
        let tensors = try SafeTensors.read(path: paths.tensors)
        for (prefix, buffer) in [
            ("", model.parameters), (firstMomentPrefix, trainer.m), (secondMomentPrefix, trainer.v),
        ] {
            for entry in model.parameterTable.entries {
                guard let tensor = tensors[prefix + entry.name] else {
                    throw MetaLearnerFileError(
                        file: paths.tensors, message: "tensor '\(prefix + entry.name)' is missing")
                }
                guard tensor.shape == entry.shape else {
                    throw MetaLearnerFileError(
                        file: paths.tensors,
                        message: "tensor '\(prefix + entry.name)' has shape \(tensor.shape), expected \(entry.shape)")
                }
                for i in 0..<entry.count { buffer[entry.offset + i] = tensor.values[i] }
            }
        }
        return trainer
    }

    /// The first field (in JSON key order) whose value differs between two configurations.
    private static func differingField(_ expected: MetaLearnerConfig, _ stored: MetaLearnerConfig) throws -> (
        name: String, expected: String, stored: String
    ) {
        let a = try JSONSerialization.jsonObject(with: JSONEncoder().encode(expected)) as? [String: Any] ?? [:]
        let b = try JSONSerialization.jsonObject(with: JSONEncoder().encode(stored)) as? [String: Any] ?? [:]
        for key in a.keys.sorted() where "\(a[key] ?? "none")" != "\(b[key] ?? "none")" {
            return (key, "\(a[key] ?? "none")", "\(b[key] ?? "none")")
        }
        return ("config", "\(expected)", "\(stored)")
    }
}
