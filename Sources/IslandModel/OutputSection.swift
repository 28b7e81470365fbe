import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `output:` where the run writes and how often it checkpoints.
public struct OutputSection: Codable, Equatable, Sendable {
    /// The run folder; `nil` means `runs/<config file name>`.
    public var directory: String?
    /// Generations between checkpoints (0: never).
    public var checkpointEvery = 10

    public init() {}

    enum CodingKeys: String, ConfigKey {
        case directory
        case checkpointEvery = "checkpoint_every"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        directory = try c.decodeIfPresent(String.self, forKey: .directory)
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? 10
    }
}
