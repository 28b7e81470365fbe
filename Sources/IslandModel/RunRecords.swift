import Evolution
import Foundation

/// One line of `metrics.jsonl`: one island after one generation. Everything in it is determined
/// by the configuration, so the file is the same, bit for bit, on any number of ranks (wall-clock
/// times go to `timings.jsonl`).
public struct IslandMetrics: Codable, Equatable, Sendable {
    public var generation: Int
    public var island: Int
    /// `weights` or `latent`: the space the island evolved in this generation.
    public var phase: String
    public var best: Float
    public var mean: Float
    public var median: Float
    /// Best fitness the island has seen so far (with minibatch fitness: in this generation, since
    /// scores on different batches do not compare).
    public var bestEver: Float
    /// Networks evaluated on the island so far.
    public var evaluations: Int
    /// Bytes of migrants the island has received so far.
    public var bytesMigrated: Int
    /// The kind of candidate that scored best this generation, where the algorithm mixes kinds
    /// (the anchored latent: `full`, `latent` or `guided`); absent otherwise.
    public var bestKind: String?

    enum CodingKeys: String, CodingKey {
        case generation, island, phase, best, mean, median, bestEver = "best_ever", evaluations, bytesMigrated = "bytes_migrated"
        case bestKind = "best_kind"
    }
}

/// One line of `timings.jsonl`: where one rank's time went in one generation, in seconds.
public struct RankTiming: Codable, Equatable, Sendable {
    public var generation: Int
    public var rank: Int
    /// Breeding and evaluating (decoding included in the latent phase).
    public var evolve = 0.0
    public var migrate = 0.0
    public var metaTraining = 0.0
    /// Time inside the meta-learner's gradient allreduce (part of `metaTraining`).
    public var allreduce = 0.0
    public var checkpoint = 0.0
    public var total = 0.0

    enum CodingKeys: String, CodingKey {
        case generation, rank, evolve, migrate, metaTraining = "meta_training", allreduce, checkpoint, total
    }
}

/// What every rank tells every other after a generation.
struct GenerationReport: Codable {
    var metrics: [IslandMetrics]
    var timing: RankTiming
    /// Networks evaluated on the rank in this generation.
    var evaluated: Int
    /// Seconds since the run (or the resumed run) started, on this rank.
    var elapsed: Double
}

/// `run.json` in a checkpoint: the state that is not per island.
struct RunState: Codable {
    static let format = "atoll-run"
    static let version = 1

    var format = RunState.format
    var version = RunState.version
    var generation: Int
    var progress: RunProgress
    /// Lengths of the logs at this checkpoint: a resume cuts them back to these.
    var metricsBytes: UInt64
    var timingsBytes: UInt64
    var metaBytes: UInt64
    /// The space the islands evolve in.
    var phase: Archipelago.Phase
    /// Set in the checkpoint written when the run stopped.
    var stopReason: StopReason?
}

/// `summary.json`, and the table rank 0 prints at the end.
public struct RunSummary: Codable, Sendable {
    public var generations: Int
    public var stopReason: String
    public var fitnessName: String
    public var bestFitness: Float
    public var bestIsland: Int
    /// Accuracy of the best genome on the whole training split (classification datasets).
    public var trainAccuracy: Double?
    public var testAccuracy: Double?
    public var evaluations: Int
    public var wallSeconds: Double
    /// Peak resident memory of each rank's process, in MiB.
    public var peakMemoryMiB: [Double]
    public var directory: String
}
