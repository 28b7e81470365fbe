import Evolution
import Foundation

/// One line of `metrics.jsonl`: one island after one generation. Everything in it is determined
/// by the configuration, so the file is the same, bit for bit, on any number of ranks (wall-clock
/// times go to `timings.jsonl`).
///
/// `best`, `mean` and `median` are over the finite fitness values of the island's population;
/// `non_finite` counts the others (NaN, ±∞: a failed or overflowing evaluation, ranked last). A value
/// that is not a number — the statistics of a population with no finite fitness, `best_ever` of an
/// island that never had one — is written as JSON `null` (and read back as −∞), so every line is
/// valid JSON.
public struct IslandMetrics: Codable, Equatable, Sendable {
    public var generation: Int
    public var island: Int
    /// `weights` or `latent`: the space the island evolved in this generation.
    public var phase: String
    public var best: Float
    public var mean: Float
    public var median: Float
    /// Individuals of the population whose fitness is NaN or ±∞.
    public var nonFinite: Int
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
        case generation, island, phase, best, mean, median
        case nonFinite = "non_finite"
        case bestEver = "best_ever"
        case evaluations
        case bytesMigrated = "bytes_migrated"
        case bestKind = "best_kind"
    }

    /// The line for `island` after `generation`: best, mean and median of the finite values of
    /// `fitness` (the median of an even count is the mean of the middle two), and how many are not.
    init(generation: Int, island: Island, phase: String) {
        let fitness = island.population.fitness
        let finite = fitness.filter(\.isFinite).sorted()
        let n = finite.count
        self.generation = generation
        self.island = island.index
        self.phase = phase
        if n == 0 {
            (best, mean, median) = (-.infinity, -.infinity, -.infinity)
        } else {
            var sum = 0.0
            for f in finite { sum += Double(f) }
            (best, mean, median) = (
                finite[n - 1], Float(sum / Double(n)),
                n % 2 == 1 ? finite[n / 2] : (finite[n / 2 - 1] + finite[n / 2]) / 2
            )
        }
        nonFinite = fitness.count - n
        bestEver = island.bestFitness
        evaluations = island.evaluations
        bytesMigrated = island.bytesReceived
        bestKind = island.bestKind
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) throws -> Float {
            try c.decodeNil(forKey: key) ? -.infinity : c.decode(Float.self, forKey: key)
        }
        generation = try c.decode(Int.self, forKey: .generation)
        island = try c.decode(Int.self, forKey: .island)
        phase = try c.decode(String.self, forKey: .phase)
        best = try number(.best)
        mean = try number(.mean)
        median = try number(.median)
        nonFinite = try c.decode(Int.self, forKey: .nonFinite)
        bestEver = try number(.bestEver)
        evaluations = try c.decode(Int.self, forKey: .evaluations)
        bytesMigrated = try c.decode(Int.self, forKey: .bytesMigrated)
        bestKind = try c.decodeIfPresent(String.self, forKey: .bestKind)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func number(_ value: Float, _ key: CodingKeys) throws {
            if value.isFinite { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
        try c.encode(generation, forKey: .generation)
        try c.encode(island, forKey: .island)
        try c.encode(phase, forKey: .phase)
        try number(best, .best)
        try number(mean, .mean)
        try number(median, .median)
        try c.encode(nonFinite, forKey: .nonFinite)
        try number(bestEver, .bestEver)
        try c.encode(evaluations, forKey: .evaluations)
        try c.encode(bytesMigrated, forKey: .bytesMigrated)
        try c.encodeIfPresent(bestKind, forKey: .bestKind)
    }
}

/// One line of `timings.jsonl`: where one rank's time went in one generation, in seconds.
public struct RankTiming: Codable, Equatable, Sendable {
    public var generation: Int
    public var rank: Int
    /// Breeding and evaluating (decoding included).
    public var evolve = 0.0
    /// Decoding with the meta-learner (part of `evolve`): the absolute latent's genomes, or the
    /// anchored latent's residuals.
    public var decode = 0.0
    public var migrate = 0.0
    public var metaTraining = 0.0
    /// Time inside the meta-learner's gradient allreduce (part of `metaTraining`).
    public var allreduce = 0.0
    public var checkpoint = 0.0
    public var total = 0.0

    enum CodingKeys: String, CodingKey {
        case generation, rank, evolve, decode, migrate
        case metaTraining = "meta_training"
        case allreduce, checkpoint, total
    }

    public init(generation: Int, rank: Int) {
        self.generation = generation
        self.rank = rank
    }

    /// Reads a line of `timings.jsonl`; `decode` is absent from runs written before it existed.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        generation = try c.decode(Int.self, forKey: .generation)
        rank = try c.decode(Int.self, forKey: .rank)
        evolve = try c.decode(Double.self, forKey: .evolve)
        decode = try c.decodeIfPresent(Double.self, forKey: .decode) ?? 0
        migrate = try c.decode(Double.self, forKey: .migrate)
        metaTraining = try c.decode(Double.self, forKey: .metaTraining)
        allreduce = try c.decode(Double.self, forKey: .allreduce)
        checkpoint = try c.decode(Double.self, forKey: .checkpoint)
        total = try c.decode(Double.self, forKey: .total)
    }
}

/// What every rank tells every other after a generation.
struct RankReport: Codable {
    var metrics: [IslandMetrics]
    var timing: RankTiming
    /// Networks evaluated on the rank in this generation.
    var evaluated: Int
    /// Seconds since the run (or the resumed run) started, on this rank.
    var elapsed: Double
    /// The rank's islands whose population has no finite fitness.
    var exhausted: [Int]
    /// The signal asking this rank to stop (SIGINT, SIGTERM), 0 for none.
    var signal: Int32
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
    var phase: SearchPhase
    /// Set in the checkpoint written when the run stopped.
    var stopReason: StopReason?
    /// What the results depend on (`nil` in checkpoints of older versions).
    var settings: ResultSettings?
    /// The BLAS kernel(s) the ranks computed with (`BLASKernel.agree`; `nil` in older checkpoints).
    var blas: String?

    /// `run.json`'s encoding: non-finite numbers (the best fitness of a run that has had no finite
    /// one is −∞) as the strings `inf`, `-inf`, `nan`.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
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
    /// The BLAS kernel(s) of the ranks (the same bits need the same kernel).
    public var blas: String
    public var directory: String
}
