/// `watchdog:` ending a run whose generation takes far longer than its recent ones (`Watchdog`).
///
/// A generation may last at most `max(min_seconds, factor × the median of the last 10
/// generations)`, armed once three generations have been timed. None of it changes the results
/// (a resume does not compare it).
public struct WatchdogSection: Codable, Equatable, Sendable {
    /// Off: a rank that stops answering leaves the others waiting for ever. Turn it off for an
    /// external evaluator whose generations vary by more than `factor` and `min_seconds` allow.
    public var enabled = true
    /// How many times the recent median a generation may take.
    public var factor = 20.0
    /// The least time a generation is allowed, in seconds (meta-learner rounds and checkpoints
    /// make some generations much longer than the median).
    public var minSeconds = 300.0

    public init() {}

    enum CodingKeys: String, ConfigKey {
        case enabled, factor
        case minSeconds = "min_seconds"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = WatchdogSection()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
        factor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? d.factor
        minSeconds = try c.decodeIfPresent(Double.self, forKey: .minSeconds) ?? d.minSeconds
    }

    func validate() throws {
        guard factor >= 1 && factor <= 1e6 else {
            throw ConfigError.invalidValue(path: "watchdog.factor", message: "expected 1 to 1000000, got \(factor)")
        }
        guard minSeconds > 0 && minSeconds <= 1e7 else {
            throw ConfigError.invalidValue(
                path: "watchdog.min_seconds", message: "expected above 0 and at most 10000000, got \(minSeconds)")
        }
    }
}
