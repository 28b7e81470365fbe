import Collectives
import Evolution
import Foundation
import MetaLearning

/// How a run uses its meta-learner, one type per design, each holding the state it needs:
/// - `AbsoluteLatentDesign` (`latent.mode: absolute`): after the warm-up, islands search the
///   meta-learner's latent codes while decoded networks keep enough fitness;
/// - `AnchoredLatentDesign` (`latent.mode: anchored` with a decoder or focus): islands stay on
///   SNES in the anchored latent, and the meta-learner decodes residual steps and weighs the
///   neurons of focused rows.
///
/// Every rank holds the same design and meta-learner; a training round sums every island's
/// gradient exactly (`MetaLearner.train`), so the result does not depend on the placement.
protocol MetaLearnerDesign: AnyObject {
    /// The meta-learner (saved with every checkpoint and at the end).
    var metaLearner: MetaLearner { get }
    /// The space the islands search.
    var phase: SearchPhase { get }
    /// Whether the meta-learner trains after `generation`.
    func isTrainingRound(generation: Int) -> Bool
    /// One generation of `island` when the design makes its candidates (the absolute latent
    /// phase); `nil` when the island evolves itself (`Island.evolve`).
    ///
    /// - Returns: networks evaluated.
    func evolve(_ island: inout Island, key: StreamKey, with evaluator: CandidateEvaluator) throws -> Int?
    /// A training round after `generation` over `archipelago`'s islands, and what it leads to.
    func round(after generation: Int, in archipelago: Archipelago) throws -> MetaRound
}

/// What a training round did: its line of `meta.jsonl`, the networks it evaluated re-scoring
/// populations, and the seconds this rank spent in the gradient allreduce.
struct MetaRound {
    var record: MetaRoundRecord
    var evaluated: Int
    var allreduceSeconds: Double
}

/// What one meta-learner training round did (a line of `meta.jsonl`).
public struct MetaRoundRecord: Codable, Equatable, Sendable {
    public var generation: Int
    /// The phase after the round (`weights` or `latent`), or `anchored` (the anchored latent).
    public var phase: String
    public var steps: Int
    /// Raw loss terms, averaged over the round's steps and over all islands.
    public var reconstruction: Double
    public var behaviour: Double
    public var gap: Double
    public var head: Double
    /// Mean fitness retention of decode(encode(g)) over each island's best genomes.
    public var retention: Double
    /// Evaluations spent re-scoring re-encoded populations.
    public var evaluations: Int
}

/// One island's part of a training round, gathered from every rank.
struct IslandRoundResult: Codable {
    var island: Int
    /// Fitness (or test-accuracy) retention of decode(encode(g)) over the island's best genomes.
    var retention: Double
    /// The island's raw loss terms, averaged over the round's steps.
    var terms: MetaLossTerms

    /// Every rank's `local` results, in island order.
    static func gather(_ local: [IslandRoundResult], communicator: any Communicator) throws -> [IslandRoundResult] {
        try communicator.allgatherStrings(String(decoding: try JSONEncoder().encode(local), as: UTF8.self))
            .flatMap { try JSONDecoder().decode([IslandRoundResult].self, from: Data($0.utf8)) }
            .sorted { $0.island < $1.island }
    }
}

extension MetaRoundRecord {
    /// The round's line from every island's `results`: loss terms and retention averaged over
    /// the islands (0 without any).
    init(generation: Int, phase: String, steps: Int, results: [IslandRoundResult], evaluations: Int) {
        func mean(_ value: (IslandRoundResult) -> Double) -> Double {
            results.isEmpty ? 0 : results.reduce(0) { $0 + value($1) } / Double(results.count)
        }
        self.init(
            generation: generation, phase: phase, steps: steps, reconstruction: mean(\.terms.reconstruction),
            behaviour: mean(\.terms.behaviour), gap: mean(\.terms.gap), head: mean(\.terms.head),
            retention: mean(\.retention), evaluations: evaluations)
    }
}

extension RunConfig {
    /// The design `latent.mode` names, around `metaLearner`, starting in `phase`.
    func metaLearnerDesign(_ metaLearner: MetaLearner, phase: SearchPhase) -> any MetaLearnerDesign {
        latent.mode == .anchored
            ? AnchoredLatentDesign(metaLearner: metaLearner, config: self)
            : AbsoluteLatentDesign(metaLearner: metaLearner, config: self, phase: phase)
    }
}
