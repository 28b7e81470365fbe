import Foundation
import Kernels
import Yams

/// How the meta-learner is trained: minibatches, AdamW, schedule, clipping, loss weights.
///
/// YAML or JSON keys are snake_case (`batch_size`, `w_rec`, …); every field has a default and an
/// unknown key is an error that names it.
public struct MetaTrainingSettings: Codable, Equatable, Sendable {
    /// Genomes per minibatch (all of one network layout).
    public var batchSize = 32
    /// Peak learning rate `η_max`, reached after warm-up.
    public var learningRate: Float = 1e-3
    /// Final learning rate `η_min` of the cosine decay.
    public var minLearningRate: Float = 1e-4
    /// Steps of linear warm-up.
    public var warmupSteps = 100
    /// Step at which the cosine decay reaches `minLearningRate`.
    public var totalSteps = 5000
    /// AdamW's decoupled weight decay `λ`, applied to matrices and learned tables only.
    public var weightDecay: Float = 0.01
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// Largest global gradient norm; larger gradients are scaled down to it.
    public var clipNorm: Float = 1
    /// Weights of the loss terms (each term is first divided by its first observed value).
    public var wRec: Float = 1
    public var wBeh: Float = 1
    public var wGap: Float = 0.5
    public var wHead: Float = 0.1
    /// Probe inputs per network layout for the behavioural and gap terms.
    public var probeCount = 256
    /// Seeds the minibatch streams `(seed, island, round, "meta-batch")` and the probe choice.
    public var seed: UInt64 = 0

    public init() {}

    /// The warm-up + cosine schedule these settings describe.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(
            maxRate: learningRate, minRate: minLearningRate, warmupSteps: warmupSteps,
            totalSteps: max(totalSteps, warmupSteps))
    }

    /// AdamW's hyper-parameters.
    public var adamW: AdamWSettings {
        AdamWSettings(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    /// `w_rec`, `w_beh`, `w_gap`, `w_head` as terms.
    public var weights: MetaLossTerms {
        MetaLossTerms(reconstruction: Double(wRec), behaviour: Double(wBeh), gap: Double(wGap), head: Double(wHead))
    }

    /// Checks every value.
    ///
    /// - Throws: `MetaLearnerConfigError` naming the field.
    public func validate() throws {
        if batchSize < 1 {
            throw MetaLearnerConfigError(field: "batch_size", message: "expected at least 1, got \(batchSize)")
        }
        if probeCount < 1 {
            throw MetaLearnerConfigError(field: "probe_count", message: "expected at least 1, got \(probeCount)")
        }
        if warmupSteps < 0 {
            throw MetaLearnerConfigError(field: "warmup_steps", message: "expected zero or more, got \(warmupSteps)")
        }
        if totalSteps < 1 {
            throw MetaLearnerConfigError(field: "total_steps", message: "expected at least 1, got \(totalSteps)")
        }
        let positive: [(String, Float)] = [
            ("learning_rate", learningRate), ("clip_norm", clipNorm), ("epsilon", epsilon),
        ]
        for (field, value) in positive where !(value > 0 && value.isFinite) {
            throw MetaLearnerConfigError(field: field, message: "expected a positive number, got \(value)")
        }
        let nonNegative: [(String, Float)] = [
            ("min_learning_rate", minLearningRate), ("weight_decay", weightDecay),
            ("w_rec", wRec), ("w_beh", wBeh), ("w_gap", wGap), ("w_head", wHead),
        ]
        for (field, value) in nonNegative where !(value >= 0 && value.isFinite) {
            throw MetaLearnerConfigError(field: field, message: "expected zero or a positive number, got \(value)")
        }
        for (field, value) in [("beta1", beta1), ("beta2", beta2)] where !(value >= 0 && value < 1) {
            throw MetaLearnerConfigError(field: field, message: "expected a number in [0, 1), got \(value)")
        }
        if wRec + wBeh + wGap + wHead == 0 {
            throw MetaLearnerConfigError(field: "w_rec", message: "every loss weight is 0: nothing to train")
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case minLearningRate = "min_learning_rate"
        case warmupSteps = "warmup_steps"
        case totalSteps = "total_steps"
        case weightDecay = "weight_decay"
        case beta1, beta2, epsilon
        case clipNorm = "clip_norm"
        case wRec = "w_rec"
        case wBeh = "w_beh"
        case wGap = "w_gap"
        case wHead = "w_head"
        case probeCount = "probe_count"
        case seed
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "training")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MetaTrainingSettings()
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        minLearningRate = try c.decodeIfPresent(Float.self, forKey: .minLearningRate) ?? d.minLearningRate
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? d.warmupSteps
        totalSteps = try c.decodeIfPresent(Int.self, forKey: .totalSteps) ?? d.totalSteps
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        beta1 = try c.decodeIfPresent(Float.self, forKey: .beta1) ?? d.beta1
        beta2 = try c.decodeIfPresent(Float.self, forKey: .beta2) ?? d.beta2
        epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? d.epsilon
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm) ?? d.clipNorm
        wRec = try c.decodeIfPresent(Float.self, forKey: .wRec) ?? d.wRec
        wBeh = try c.decodeIfPresent(Float.self, forKey: .wBeh) ?? d.wBeh
        wGap = try c.decodeIfPresent(Float.self, forKey: .wGap) ?? d.wGap
        wHead = try c.decodeIfPresent(Float.self, forKey: .wHead) ?? d.wHead
        probeCount = try c.decodeIfPresent(Int.self, forKey: .probeCount) ?? d.probeCount
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        try validate()
    }
}

/// A meta-learner configuration file (`configs/meta.yaml`): the model's sizes and its training.
///
/// ```yaml
/// model:    {latents: 8, latent_width: 16, ...}   # MetaLearnerConfig (camelCase keys)
/// training: {batch_size: 32, w_beh: 1, ...}       # MetaTrainingSettings
/// ```
public struct MetaLearnerSetup: Codable, Equatable, Sendable {
    public var model = MetaLearnerConfig()
    public var training = MetaTrainingSettings()

    public init(model: MetaLearnerConfig = MetaLearnerConfig(), training: MetaTrainingSettings = MetaTrainingSettings())
    {
        self.model = model
        self.training = training
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case model, training }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "top level")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(MetaLearnerConfig.self, forKey: .model) ?? MetaLearnerConfig()
        training = try c.decodeIfPresent(MetaTrainingSettings.self, forKey: .training) ?? MetaTrainingSettings()
    }

    /// Reads a YAML (or JSON) file.
    ///
    /// - Throws: `MetaLearnerConfigError` naming the file and the field.
    public static func load(path: String) throws -> MetaLearnerSetup {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MetaLearnerConfigError(field: path, message: "cannot read the file: \(error.localizedDescription)")
        }
        do {
            return try YAMLDecoder().decode(MetaLearnerSetup.self, from: text)
        } catch let error as MetaLearnerConfigError {
            throw MetaLearnerConfigError(field: error.field, message: "\(error.message) (in \(path))")
        } catch let DecodingError.dataCorrupted(context) where context.underlyingError is MetaLearnerConfigError {
            let error = context.underlyingError as! MetaLearnerConfigError
            throw MetaLearnerConfigError(field: error.field, message: "\(error.message) (in \(path))")
        } catch let DecodingError.typeMismatch(type, context) {
            throw MetaLearnerConfigError(
                field: context.codingPath.map(\.stringValue).joined(separator: "."),
                message: "expected \(type) (in \(path))")
        } catch {
            throw MetaLearnerConfigError(field: path, message: "not a valid meta-learner YAML file: \(error)")
        }
    }
}

private struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Throws `MetaLearnerConfigError` for the first key of `decoder`'s object not in `known`.
func rejectUnknownKeys(_ decoder: Decoder, known: [String], section: String) throws {
    for key in try decoder.container(keyedBy: AnyCodingKey.self).allKeys where !known.contains(key.stringValue) {
        throw MetaLearnerConfigError(
            field: key.stringValue,
            message: "unknown key in \(section); expected one of \(known.joined(separator: ", "))")
    }
}
