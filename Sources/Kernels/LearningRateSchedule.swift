import Foundation

/// Linear warm-up followed by cosine decay (Loshchilov & Hutter 2017, SGDR, without restarts), as
/// llm.c's `train_gpt2`.
///
/// For step `t` (from 0): during warm-up `η(t) = η_max · (t+1)/W`; then with
/// `r = (t − W)/(S − W)` clamped to `[0, 1]`, `η(t) = η_min + ½(1 + cos πr)(η_max − η_min)`,
/// where `W = warmupSteps` and `S = totalSteps`. After `S` steps the rate stays at `η_min`.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    /// `η_max`, reached at the end of warm-up.
    public var maxRate: Float
    /// `η_min`, reached at `totalSteps`.
    public var minRate: Float
    /// `W`: steps of linear warm-up.
    public var warmupSteps: Int
    /// `S`: the step where the cosine reaches `minRate`.
    public var totalSteps: Int

    public init(maxRate: Float, minRate: Float, warmupSteps: Int, totalSteps: Int) {
        precondition(warmupSteps >= 0 && totalSteps >= warmupSteps, "need 0 ≤ warmupSteps ≤ totalSteps")
        self.maxRate = maxRate
        self.minRate = minRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate for step `step` (counting from 0).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps {
            return maxRate * Float(step + 1) / Float(warmupSteps)
        }
        let span = totalSteps - warmupSteps
        guard span > 0 else { return minRate }
        let ratio = min(1, max(0, Double(step - warmupSteps) / Double(span)))
        let coefficient = Float(0.5 * (1 + cos(Double.pi * ratio)))
        return minRate + coefficient * (maxRate - minRate)
    }
}
