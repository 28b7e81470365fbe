import Collectives
import Evolution
import Foundation
import Networks
import Tasks

/// Launching a run: the checks every rank agrees on, generation 0 or the newest valid checkpoint,
/// and the folder.
extension Run {
    // MARK: Starting and resuming

    /// Starts a run of `config` in `directory` and runs it to its end.
    ///
    /// Nothing is written before every check has passed on every rank: the configuration, the
    /// task, the network, the placement, the BLAS kernels, the pre-trained meta-learner, the run
    /// folder (an existing run is left untouched unless `options.force`; a folder another run holds
    /// is refused) and the first generation's evaluation. Rank 0 then holds the folder's lock
    /// until the run ends.
    public static func start(
        config: RunConfig, directory: URL, communicator: any Communicator, options: Options = Options()
    ) throws -> RunSummary {
        let (network, task) = try agree(communicator) { try setUp(config, communicator) }
        let blas = try BLASKernel.agree(
            communicator, allowMixed: options.allowMixedBLAS, fastAllreduce: config.allreduce == .fast,
            warn: options.warn)
        try agree(communicator) { if communicator.rank == 0 { try RunFolder.check(directory, force: options.force) } }
        let latent = try agree(communicator) { () -> MetaLearner? in
            guard config.latent.trainsMetaLearner else { return nil }
            do {
                return try MetaLearner(config: config, network: network, task: task)
            } catch {
                throw config.meta.pretrained == nil
                    ? error : ConfigError.invalidValue(path: "meta.pretrained", message: "\(error)")
            }
        }
        let archipelago = try agree(communicator) { () -> Archipelago in
            let archipelago = try Archipelago.initial(
                config: config, communicator: communicator, network: network, task: task)
            archipelago.design = latent.map { config.metaLearnerDesign($0, phase: .weights) }
            return archipelago
        }
        let folder: RunFolder? = try agree(communicator) {
            guard communicator.rank == 0 else { return nil }
            let folder = try RunFolder(creating: directory, config: config, force: options.force)
            try CheckpointStore(directory: directory.appendingPathComponent("checkpoints")).checkWritable()
            return folder
        }
        let run = Run(
            config: config, directory: directory, communicator: communicator, options: options,
            archipelago: archipelago, progress: RunProgress(), generation: 0, folder: folder, blas: blas)
        let report = try run.gather(
            evaluated: archipelago.islands.reduce(0) { $0 + $1.population.count },
            timing: RankTiming(generation: 0, rank: communicator.rank))
        run.progress.evaluations = report.evaluated
        run.progress.bestFitness = report.best
        try run.stopIfExhausted()
        if run.interruptingSignal != nil { try run.stopInterrupted() }
        return try run.loop()
    }

    /// Continues the run in `directory` from its newest valid checkpoint, on any number of ranks.
    ///
    /// The checkpoint must match the folder's `config.yaml` in every setting the results depend
    /// on (`ResultSettings`), and the logs must still hold what the checkpoint recorded; otherwise
    /// the resume is refused, naming each differing key or the damaged log, before any file is
    /// touched. Under other BLAS kernels than the checkpoint's it warns that the bits will differ.
    ///
    /// - Parameter generations: a new `stop.generations` (written to `config.yaml`): extends a
    ///   finished run, or changes the length of an unfinished one.
    /// A run that stopped but was killed before writing its results (`best.safetensors`,
    /// `summary.json`) gets them written from its last checkpoint.
    ///
    /// - Returns: the summary, or `nil` when the run had already finished with its results (and
    ///   `generations` does not extend it).
    public static func resume(
        directory: URL, communicator: any Communicator, options: Options = Options(), generations: Int? = nil
    ) throws -> RunSummary? {
        let configPath = directory.appendingPathComponent("config.yaml").path
        var config = try agree(communicator) {
            if communicator.rank == 0 { try RunLock.checkFree(directory) }
            guard FileManager.default.fileExists(atPath: configPath) else {
                let checkpoints = directory.appendingPathComponent("checkpoints").path
                if FileManager.default.fileExists(atPath: checkpoints) {
                    throw RunError(
                        "\(directory.path) has checkpoints/ but no config.yaml: copy the config the run was started with "
                            + "to \(configPath) (a mismatch in what the results depend on is refused, naming the key), then resume again"
                    )
                }
                throw RunError("\(directory.path) is not a run folder: it has no config.yaml")
            }
            return try RunConfig.load(path: configPath)
        }
        if let generations { config.stop.generations = generations }
        let (network, task) = try agree(communicator) { try setUp(config, communicator) }
        let blas = try BLASKernel.agree(
            communicator, allowMixed: options.allowMixedBLAS, fastAllreduce: config.allreduce == .fast,
            warn: options.warn)
        let store = CheckpointStore(directory: directory.appendingPathComponent("checkpoints"))
        let chosen = try agree(communicator) { () -> Int in
            guard communicator.rank == 0 else { return -1 }
            guard let checkpoint = store.newestValid(warn: options.warn, check: RunIdentity.check(checkpoint:)) else {
                throw RunError("no valid checkpoint in \(store.directory.path): start the run again with `atoll run`")
            }
            return checkpoint.generation
        }
        let generation = try agreedValue(communicator, rank0: chosen)
        let folder = store.directory.appendingPathComponent(CheckpointStore.folderName(generation))
        let (state, islands) = try agree(communicator) { () -> (RunState, [Island]) in
            let state = try RunState.decoder.decode(
                RunState.self, from: Data(contentsOf: folder.appendingPathComponent("run.json")))
            if communicator.rank == 0 {
                try checkResumable(
                    directory, state: state, config: config, generations: generations, warn: options.warn)
            }
            let placement = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
            let islands = try placement.islands(of: communicator.rank).map { index -> Island in
                let url = folder.appendingPathComponent(RunFolder.islandFileName(index))
                return try Island(
                    reading: RunIdentity.split(Data(contentsOf: url)).payload, source: url.path,
                    readSearch: config.readIslandSearch)
            }
            return (state, islands)
        }
        // A run that stopped may have been killed between its last checkpoint and its results.
        let hasResults =
            try agreedValue(communicator, rank0: communicator.rank == 0 && RunFolder.hasResults(directory) ? 1 : 0) == 1
        if let reason = state.stopReason, generations == nil, hasResults {
            if communicator.rank == 0 {
                options.output(
                    "The run in \(directory.path) finished at generation \(state.generation) (stop: \(reason.rawValue)); nothing to resume "
                        + "(extend it with `atoll resume \(shellQuoted(directory.path)) --generations N`).\n")
            }
            return nil
        }
        if communicator.rank == 0, let recorded = state.blas, recorded != blas {
            options.warn(
                "the checkpoint of generation \(generation) was computed with BLAS \(recorded), this resume runs with \(blas): "
                    + "from generation \(generation + 1) on, the bits will differ from a run that stays on the first kernel"
            )
        }
        let archipelago = try agree(communicator) { () -> Archipelago in
            let archipelago = try Archipelago(
                config: config, communicator: communicator, network: network, task: task, islands: islands)
            if config.latent.trainsMetaLearner {
                archipelago.design = config.metaLearnerDesign(
                    try MetaLearner(config: config, network: network, task: task, checkpoint: folder),
                    phase: state.phase)
            }
            return archipelago
        }
        let files: RunFolder? = try agree(communicator) {
            guard communicator.rank == 0 else { return nil }
            try store.checkWritable()
            return try RunFolder(resuming: directory, config: generations != nil ? config : nil, state: state)
        }
        let run = Run(
            config: config, directory: directory, communicator: communicator, options: options,
            archipelago: archipelago, progress: state.progress, generation: generation, folder: files, blas: blas)
        if let reason = state.stopReason, generations == nil {
            if communicator.rank == 0 {
                options.output(
                    "The run in \(directory.path) stopped at generation \(generation) (stop: \(reason.rawValue)) before writing its results; writing them.\n"
                )
            }
            return try run.finish(stopReason: reason)
        }
        if communicator.rank == 0 {
            options.output(
                "Resuming \(directory.path) from generation \(generation) on \(communicator.size) rank(s).\n")
        }
        return try run.loop()
    }

    /// Rank 0's checks that `state` can go on under `config`, touching nothing: the results-relevant
    /// settings match, a new generation limit lies ahead, and the logs hold what the checkpoint
    /// recorded.
    static func checkResumable(
        _ directory: URL, state: RunState, config: RunConfig, generations: Int?, warn: (String) -> Void
    ) throws {
        if let recorded = state.settings {
            let differences = recorded.differences(from: try ResultSettings(config))
            if !differences.isEmpty {
                throw RunError(
                    """
                    the checkpoint of generation \(state.generation) does not match \(directory.appendingPathComponent("config.yaml").path) \
                    in what its results depend on:
                      \(differences.joined(separator: "\n  "))
                    Put these back to resume; to change them, start a new run (`atoll run`). Only the length may change, \
                    with `atoll resume \(shellQuoted(directory.path)) --generations N`.
                    """)
            }
        } else {
            warn(
                "the checkpoint of generation \(state.generation) predates recorded settings: config.yaml cannot be checked against it"
            )
        }
        if let generations {
            guard generations > state.generation else {
                throw RunError(
                    "--generations \(generations): the run is already at generation \(state.generation); give more than \(state.generation)"
                )
            }
            if let reason = config.stop.criteria.reason(toStop: state.progress), reason != .generations {
                throw RunError(
                    "--generations \(generations): the run would stop again at once (stop: \(reason.rawValue) is already met); "
                        + "change that criterion in the stop section of config.yaml too")
            }
        }
        for (name, bytes) in [
            ("metrics.jsonl", state.metricsBytes), ("timings.jsonl", state.timingsBytes),
            ("meta.jsonl", state.metaBytes),
        ] {
            do {
                try JSONLinesLog.checkPrefix(directory.appendingPathComponent(name), byteCount: bytes)
            } catch {
                throw RunError(
                    "cannot resume \(directory.path) from generation \(state.generation): \(error). The log would lose lines "
                        + "(it is never padded); restore it from a backup, or start the run again with `atoll run --force`"
                )
            }
        }
    }

    /// The network and task of `config`, checked against each other, the rank count and the memory
    /// the run will need (`MemoryEstimate`).
    static func setUp(_ config: RunConfig, _ communicator: any Communicator) throws -> (Network, any FitnessTask) {
        _ = try IslandPlacement(islandCount: config.islands.count, rankCount: communicator.size)
        let network: Network
        do {
            network = try Network(spec: config.network.spec())
        } catch {
            throw ConfigError.invalidValue(path: "network", message: "\(error)")
        }
        let task: any FitnessTask
        do {
            task = try TaskCatalog.make(config.task.name, options: config.task.options)
            try task.checkCompatible(network)
        } catch {
            throw ConfigError.invalidValue(path: "task", message: "\(error)")
        }
        if config.evolution.algorithm == .eggroll,
            let fullest = RunConfig.lowRankBlocks(network.layout).filter(\.isMatrix).map({ min($0.rows, $0.columns) })
                .max(),
            config.evolution.rank > fullest
        {
            throw ConfigError.invalidValue(
                path: "evolution.rank",
                message: "expected at most \(fullest), the largest rank any "
                    + "weight matrix of the network can have (min(out, in) over its matrices), got \(config.evolution.rank)"
            )
        }
        try MemoryEstimate.check(config: config, network: network, communicator: communicator)
        return (network, task)
    }
}
