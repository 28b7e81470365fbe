import Collectives
import Foundation
import Kernels
import MetaLearning
import Networks
import Tasks

/// The run's meta-learner (`MetaLearning`'s attention autoencoder with its trainer), as both of
/// its designs use it (`AbsoluteLatentDesign`, `AnchoredLatentDesign`): encoding genomes into
/// latent codes and decoding codes into genomes, and training rounds in which every island
/// contributes one gradient per step, summed over all islands exactly.
///
/// Every rank holds an identical copy: the same initial parameters (seeded by the run's seed, or
/// the pre-trained file), and every step applies the same summed gradient.
final class MetaLearner {
    let trainer: MetaTrainer
    let tokenizer: Tokenizer
    let group: MetaLayoutGroup
    let config: RunConfig
    /// Room for the fixed-point gradient sum, reused every step.
    private let scratch = ReproducibleAllreduce.Scratch()
    var model: AttentionAutoencoder { trainer.model }
    var latentSize: Int { model.config.latentSize }

    /// Training settings from the run's `meta` section.
    static func settings(_ config: RunConfig) -> MetaTrainingSettings {
        var s = MetaTrainingSettings()
        s.batchSize = config.meta.batch
        s.learningRate = Float(config.meta.learningRate)
        s.minLearningRate = s.learningRate / 10
        s.warmupSteps = min(100, 2 * config.meta.steps)
        let rounds = max(1, (config.stop.generations ?? 1000) / config.meta.trainEvery)
        s.totalSteps = max(s.warmupSteps + 1, rounds * config.meta.steps)
        s.wRec = Float(config.meta.loss.reconstruction)
        s.wBeh = Float(config.meta.loss.behaviour)
        s.wGap = Float(config.meta.loss.gap)
        s.wHead = Float(config.meta.loss.head)
        s.probeCount = config.meta.probeCount
        s.seed = config.seed
        return s
    }

    /// A new meta-learner, or the pre-trained one the config names, or the one saved in a
    /// checkpoint folder.
    init(config: RunConfig, network: Network, task: any FitnessTask, checkpoint: URL? = nil) throws {
        self.config = config
        let settings = Self.settings(config)
        if let checkpoint {
            trainer = try MetaTrainer.load(
                from: MetaLearnerPaths(checkpoint.appendingPathComponent("meta-learner").path),
                config: config.meta.architecture, settings: settings)
        } else if let pretrained = config.meta.pretrained {
            trainer = try MetaTrainer.load(
                from: MetaLearnerPaths(pretrained), config: config.meta.architecture, settings: settings)
        } else {
            trainer = try MetaTrainer(
                model: AttentionAutoencoder(config: config.meta.architecture, seed: config.seed), settings: settings)
        }
        tokenizer = Tokenizer(layout: network.layout, tokenValues: config.meta.architecture.tokenValues)
        group = try MetaLayoutGroup(
            network: network, records: [], task: task, config: config.meta.architecture, settings: settings)
    }

    func encode(_ weights: [Float], count: Int) -> [Float] {
        model.encode(genomes: weights, batch: count, tokenizer: tokenizer)
    }

    func decode(_ latents: [Float], count: Int) -> [Float] {
        model.decode(latents: latents, batch: count, tokenizer: tokenizer)
    }

    /// The minibatch island `island` trains on at `step` of the round of `generation`: up to
    /// `batch` distinct archive records, drawn from the island's own stream; with an `anchor`, as
    /// deltas `g − anchor` from it (the anchored latent's residual decoder).
    func minibatch(_ archive: Archive, island: Int, generation: Int, step: Int, anchor: [Float]? = nil) -> [MetaRecord]
    {
        var stream = RandomStream(
            seed: config.seed, island: island, generation: generation, purpose: "meta-batch#\(step)")
        var indices = Array(0..<archive.count)
        let b = min(config.meta.batch, indices.count)
        for i in 0..<b { indices.swapAt(i, i + stream.below(indices.count - i)) }
        let records = indices.prefix(b).map { archive.record($0) }
        guard let anchor else { return records }
        return records.map { record in
            MetaRecord(genome: zip(record.genome, anchor).map { $0 - $1 }, fitness: record.fitness, anchor: anchor)
        }
    }

    /// One training round of `config.meta.steps` steps. In each step every island (on every
    /// rank) back-propagates its own minibatch; the gradients are summed over all islands
    /// (`ReproducibleAllreduce`, one contribution per island, or float `MPI_SUM` in `fast` mode),
    /// divided by the island count, and every rank takes the same AdamW step.
    ///
    /// - Parameter anchors: each island's anchor by island index, when the records are deltas.
    /// - Returns: this rank's islands' loss terms averaged over the steps, and the seconds spent
    ///   in the allreduce.
    func train(islands: [Island], generation: Int, communicator: any Communicator, anchors: [Int: [Float]] = [:]) throws
        -> (terms: [Int: MetaLossTerms], allreduceSeconds: Double)
    {
        let scale = 1 / Float(config.islands.count)
        var allreduceSeconds = 0.0
        func sum(_ contributions: [UnsafeBufferPointer<Float>], into result: UnsafeMutableBufferPointer<Float>) throws {
            let start = DispatchTime.now().uptimeNanoseconds
            defer { allreduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
            switch config.allreduce {
            case .reproducible:
                try ReproducibleAllreduce.sum(contributions, into: result, communicator: communicator, scratch: scratch)
            case .fast:
                for i in result.indices { result[i] = contributions.reduce(0) { $0 + $1[i] } }
                try communicator.allreduce(result, op: .sum)
            }
            for i in result.indices { result[i] *= scale }
        }

        let contributions = islands.map { island in
            MetaContribution { step in
                (
                    self.group,
                    self.minibatch(
                        island.archive!, island: island.index, generation: generation, step: step,
                        anchor: anchors[island.index])
                )
            }
        }
        var totals: [Int: MetaLossTerms] = [:]
        try trainer.train(
            contributions: contributions, steps: config.meta.steps,
            sum: { parts, result in try sum(parts, into: result) },
            onContribution: { k, terms in
                let total = totals[islands[k].index, default: MetaLossTerms()]
                totals[islands[k].index] = MetaLossTerms(
                    reconstruction: total.reconstruction + terms.reconstruction,
                    behaviour: total.behaviour + terms.behaviour,
                    gap: total.gap + terms.gap, head: total.head + terms.head)
            },
            afterStep: { _ in
                if self.trainer.step % self.config.meta.checksumEvery == 0 {
                    try self.checkParametersAgree(communicator)
                }
            })
        let steps = Double(config.meta.steps)
        return (
            totals.mapValues {
                MetaLossTerms(
                    reconstruction: $0.reconstruction / steps, behaviour: $0.behaviour / steps, gap: $0.gap / steps,
                    head: $0.head / steps)
            }, allreduceSeconds
        )
    }

    /// Compares a checksum of the parameters across ranks; a mismatch means the copies have
    /// diverged (a bug or a faulty node) and the run must not go on.
    func checkParametersAgree(_ communicator: any Communicator) throws {
        var checksum = Checksum()
        checksum.update(UnsafeRawBufferPointer(model.parameters))
        let all = try communicator.allgather([Int64(bitPattern: checksum.value)])
        if Set(all).count > 1 {
            let list = all.enumerated().map { "rank \($0.offset): \(Checksum.hex(UInt64(bitPattern: $0.element)))" }
                .joined(separator: ", ")
            throw RunError(
                "the meta-learner's parameters differ between ranks after step \(trainer.step) (\(list)); stopping the run"
            )
        }
    }

    /// The meta-learner's files (parameters with AdamW moments, and its JSON state) as bytes.
    func files() throws -> [String: Data] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let paths = MetaLearnerPaths(folder.appendingPathComponent("meta-learner").path)
        try trainer.save(to: paths)
        return [
            "meta-learner.safetensors": try Data(contentsOf: URL(fileURLWithPath: paths.tensors)),
            "meta-learner.json": try Data(contentsOf: URL(fileURLWithPath: paths.state)),
        ]
    }
}
