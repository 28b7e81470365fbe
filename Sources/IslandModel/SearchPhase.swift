/// The space the islands search, every island at once: weights, or the absolute latent's codes
/// (the `phase` of `metrics.jsonl` and of a checkpoint's `run.json`).
public enum SearchPhase: String, Codable, Sendable {
    case weights, latent
}

extension RunConfig {
    /// The space the islands search in `phase`, as the progress line and the report name it:
    /// `latent` (the absolute latent's phase), `anchored` (the anchored latent), `codes`
    /// (EGGROLL's low-rank codes) or `weights`.
    public func searchSpace(in phase: SearchPhase) -> String {
        if phase == .latent { return "latent" }
        if latent.enabled && latent.mode == .anchored { return "anchored" }
        return decodesCodes ? "codes" : "weights"
    }
}
