import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `stop:` when the run ends (whichever comes first; at least one must be set).
public struct StopSection: Codable, Equatable, Sendable {
    /// 50 when the `stop` section names no criterion; nil when it names others but not this one.
    public var generations: Int? = 50
    /// Network evaluations over all islands.
    public var evaluations: Int?
    /// Wall time in seconds (a run stopped by time is not reproducible to the bit).
    public var wallTime: Double?
    /// Stop once the best fitness reaches this.
    public var targetFitness: Float?
    /// Stop after this many generations without improvement of the best fitness.
    public var patience: Int?

    public init() {}

    enum CodingKeys: String, ConfigKey {
        case generations, evaluations
        case wallTime = "wall_time"
        case targetFitness = "target_fitness"
        case patience
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let anyKeys = try decoder.container(keyedBy: CodingKeys.self).allKeys
        // The default of 50 generations applies only to a section that names no criterion at all:
        // `stop: {wall_time: 60}` stops by time alone.
        generations = try c.decodeIfPresent(Int.self, forKey: .generations) ?? (anyKeys.isEmpty ? 50 : nil)
        evaluations = try c.decodeIfPresent(Int.self, forKey: .evaluations)
        wallTime = try c.decodeIfPresent(Double.self, forKey: .wallTime)
        targetFitness = try c.decodeIfPresent(Float.self, forKey: .targetFitness)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience)
    }

    func validate() throws {
        func fail(_ key: String, _ message: String) -> ConfigError {
            .invalidValue(path: "stop.\(key)", message: message)
        }
        if let generations, generations < 1 { throw fail("generations", "expected at least 1, got \(generations)") }
        if let evaluations, evaluations < 1 { throw fail("evaluations", "expected at least 1, got \(evaluations)") }
        if let wallTime, !(wallTime > 0) { throw fail("wall_time", "expected seconds > 0, got \(wallTime)") }
        if let patience, patience < 1 { throw fail("patience", "expected at least 1, got \(patience)") }
        guard generations != nil || evaluations != nil || wallTime != nil || targetFitness != nil || patience != nil
        else {
            throw ConfigError.invalidValue(
                path: "stop",
                message:
                    "no stop criterion set: give at least one of generations, evaluations, wall_time, target_fitness, patience"
            )
        }
    }

    public var criteria: StopCriteria {
        StopCriteria(
            maxGenerations: generations, maxEvaluations: evaluations, maxSeconds: wallTime,
            targetFitness: targetFitness, maxStagnantGenerations: patience)
    }
}
