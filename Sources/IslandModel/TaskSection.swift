import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `task:` which task scores the networks.
public struct TaskSection: Codable, Equatable, Sendable {
    /// `digits`, `fashion-mnist`, `idx:DIR`, `csv:PATH`, `CartPole-v1`, `Acrobot-v1`, `MountainCarContinuous-v0`,
    /// `Pendulum-v1`, or `external:PROGRAM ARGS…` (see `atoll tasks`).
    public var name = "digits"
    /// The task's own settings (fitness, test_fraction, split_seed, data, target, kind, episodes,
    /// timeout).
    public var options = TaskOptions()

    public init() {}

    enum CodingKeys: String, ConfigKey { case name, options }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? "digits"
        options = try c.decodeIfPresent(TaskOptions.self, forKey: .options) ?? TaskOptions()
    }
}
