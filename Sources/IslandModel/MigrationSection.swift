import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `migration:` when and how many genomes move.
public struct MigrationSection: Codable, Equatable, Sendable {
    /// Generations between migrations.
    public var interval = 5
    /// Emigrants each island sends along each of its edges.
    public var count = 2
    /// `best` or `random`.
    public var emigrants = EmigrantSelection.best
    /// `worst` (replace the worst residents) or `fair` (only if better).
    public var immigrants = Replacement.worst

    public enum Replacement: String, Codable, Sendable, CaseIterable {
        case worst, fair

        var policy: ImmigrantReplacement { self == .worst ? .replaceWorst : .fair }
    }

    public init() {}

    enum CodingKeys: String, ConfigKey { case interval, count, emigrants, immigrants }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        interval = try c.decodeIfPresent(Int.self, forKey: .interval) ?? 5
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 2
        emigrants = try c.decodeIfPresent(EmigrantSelection.self, forKey: .emigrants) ?? .best
        immigrants = try c.decodeIfPresent(Replacement.self, forKey: .immigrants) ?? .worst
    }
}
