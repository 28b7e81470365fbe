/// The space the islands search, every island at once: weights, or the absolute latent's codes
/// (the `phase` of `metrics.jsonl` and of a checkpoint's `run.json`).
public enum SearchPhase: String, Codable, Sendable {
    case weights, latent
}
