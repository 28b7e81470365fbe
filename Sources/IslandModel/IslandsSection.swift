import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `islands:` how many and how large.
public struct IslandsSection: Codable, Equatable, Sendable {
    /// Logical islands, spread in contiguous blocks over the ranks (at least as many as ranks).
    public var count = 4
    /// Individuals per island.
    public var population = 32

    public init() {}

    enum CodingKeys: String, ConfigKey { case count, population }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 4
        population = try c.decodeIfPresent(Int.self, forKey: .population) ?? 32
    }
}
