import Collectives
import Evolution
import Foundation
import Networks
import Tasks

/// A whole run: the checks, generation 0 or a checkpoint, then the sequence of generations —
/// evolve, migrate, train the meta-learner when the schedule says so, report, checkpoint — and
/// the final summary. Every rank of the communicator runs the same `Run`; the islands are the
/// `Archipelago`'s, the files rank 0's `RunFolder`'s (checkpoints: `CheckpointStore`).
public final class Run {
    /// How a run is driven (not part of its configuration: none of it changes the results).
    public struct Options {
        /// Replace a run folder that already holds a run.
        public var force = false
        /// Let ranks with different BLAS kernels run together (only with `allreduce: fast`).
        public var allowMixedBLAS = false
        /// Fault injection for tests: rank `rank` kills itself with SIGKILL right after the
        /// checkpoint of generation `generation` is complete.
        public var killAfterCheckpoint: (generation: Int, rank: Int)?
        /// Where rank 0's progress lines and summary go.
        public var output: (String) -> Void = { print($0) }
        /// Where warnings go (a skipped checkpoint, …).
        public var warn: (String) -> Void = { FileHandle.standardError.write(Data("atoll: warning: \($0)\n".utf8)) }
        /// Overwrite the progress line in place (a terminal) instead of printing plain lines.
        public var interactive = false
        /// The signal asking this rank to stop after the current generation, if one came
        /// (`InterruptSignal.pending` unless a test injects one).
        public var interruption: () -> Int32? = { InterruptSignal.pending }

        public init() {}
    }

    public let config: RunConfig
    public let directory: URL
    let communicator: any Communicator
    let options: Options
    let archipelago: Archipelago
    let store: CheckpointStore
    /// Rank 0's run folder (its lock is held as long as this object lives).
    private let folder: RunFolder?
    /// The ranks' BLAS kernel(s) (`BLASKernel.agree`).
    private let blas: String
    private var metricsLog: JSONLinesLog?
    private var timingsLog: JSONLinesLog?
    private var metaLog: JSONLinesLog?
    private var progress: RunProgress
    private var generation: Int
    private let startTime = DispatchTime.now().uptimeNanoseconds
    private let elapsedOffset: Double
    private var lastCheckpointSeconds = 0.0
    private var lastProgressLine = DispatchTime.now().uptimeNanoseconds
    /// Non-finite fitness values in the islands' populations after the latest generation.
    private var nonFinite = 0
    private var warnedNonFinite = false
    /// Islands whose population has no finite fitness after the latest generation.
    private var exhaustedIslands: [Int] = []
    /// The first signal any rank reported in the latest generation's reports (rank order).
    private var interruptingSignal: Int32?
    /// Ends the run when a generation takes far longer than the recent ones (MPI ranks only:
    /// `LocalCommunicator` has its own timeout).
    private let watchdog: Watchdog?

    private init(
        config: RunConfig, directory: URL, communicator: any Communicator, options: Options, archipelago: Archipelago,
        progress: RunProgress, generation: Int, folder: RunFolder?, blas: String
    ) {
        self.config = config
        self.directory = directory
        self.communicator = communicator
        self.options = options
        self.archipelago = archipelago
        self.progress = progress
        self.generation = generation
        self.blas = blas
        elapsedOffset = progress.elapsedSeconds
        self.folder = folder
        metricsLog = folder?.metrics
        timingsLog = folder?.timings
        metaLog = folder?.meta
        store = CheckpointStore(directory: directory.appendingPathComponent("checkpoints"))
        watchdog =
            config.watchdog.enabled && !(communicator is LocalCommunicator)
            ? Watchdog(
                settings: config.watchdog, rank: communicator.rank, size: communicator.size, runDirectory: directory,
                resumeCommand: "atoll resume \(shellQuoted(directory.path))")
            : nil
    }

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
        let latent = try agree(communicator) { () -> LatentSpace? in
            guard config.latent.trainsMetaLearner else { return nil }
            do {
                return try LatentSpace(config: config, network: network, task: task)
            } catch {
                throw config.meta.pretrained == nil
                    ? error : ConfigError.invalidValue(path: "meta.pretrained", message: "\(error)")
            }
        }
        let archipelago = try agree(communicator) { () -> Archipelago in
            let archipelago = try Archipelago.initial(
                config: config, communicator: communicator, network: network, task: task)
            archipelago.latent = latent
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
                    decoding: RunIdentity.split(Data(contentsOf: url)).payload, source: url.path,
                    decodeAlgorithm: config.decodeIslandAlgorithm)
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
            archipelago.phase = state.phase
            if config.latent.trainsMetaLearner {
                archipelago.latent = try LatentSpace(config: config, network: network, task: task, checkpoint: folder)
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

    // MARK: The generation loop

    private var elapsed: Double {
        elapsedOffset + Double(DispatchTime.now().uptimeNanoseconds - startTime) * 1e-9
    }

    private func loop() throws -> RunSummary {
        var stopReason = config.stop.criteria.reason(toStop: progress)
        watchdog?.start()
        defer { watchdog?.stop() }
        while stopReason == nil {
            generation += 1
            watchdog?.begin(generation: generation)
            var timing = RankTiming(generation: generation, rank: communicator.rank)
            timing.checkpoint = lastCheckpointSeconds
            let t0 = DispatchTime.now().uptimeNanoseconds
            archipelago.decodeSeconds = 0
            var evaluated = try archipelago.breedAndEvaluate(generation: generation)
            timing.decode = archipelago.decodeSeconds
            let t1 = DispatchTime.now().uptimeNanoseconds
            if generation % config.migration.interval == 0 { try archipelago.migrate(generation: generation) }
            let t2 = DispatchTime.now().uptimeNanoseconds
            if isTrainingRound {
                let round =
                    config.latent.mode == .anchored
                    ? try archipelago.anchoredRound(generation: generation)
                    : try archipelago.metaRound(generation: generation)
                evaluated += round.evaluated
                timing.allreduce = round.allreduceSeconds
                try metaLog?.append(round.record)
            }
            let t3 = DispatchTime.now().uptimeNanoseconds
            timing.evolve = Double(t1 - t0) * 1e-9
            timing.migrate = Double(t2 - t1) * 1e-9
            timing.metaTraining = Double(t3 - t2) * 1e-9
            timing.total = timing.evolve + timing.migrate + timing.metaTraining + timing.checkpoint

            let report = try gather(evaluated: evaluated, timing: timing)
            progress.record(evaluated: report.evaluated, generationBest: report.best, elapsedSeconds: report.elapsed)
            try stopIfExhausted()
            stopReason = config.stop.criteria.reason(toStop: progress)
            if stopReason == nil, let every = config.task.options.evalEvery, generation % every == 0,
                let (_, record) = try fullEvaluation(of: try overallBest(), generation: generation)
            {
                try metricsLog?.append(record)
            }

            let t4 = DispatchTime.now().uptimeNanoseconds
            let every = config.output.checkpointEvery
            if stopReason == nil && interruptingSignal != nil { try stopInterrupted() }
            if stopReason != nil || (every > 0 && generation % every == 0) {
                try writeCheckpoint(stopReason: stopReason)
                if let fault = options.killAfterCheckpoint, fault.generation == generation,
                    fault.rank == communicator.rank
                {
                    kill(getpid(), SIGKILL)
                }
            }
            lastCheckpointSeconds = Double(DispatchTime.now().uptimeNanoseconds - t4) * 1e-9
            watchdog?.heartbeat(stage: 2 * generation + 1)
            watchdog?.end()
            showProgress(final: stopReason != nil)
        }
        return try finish(stopReason: stopReason!)
    }

    /// Whether the meta-learner trains after this generation (the latent schedule's call).
    private var isTrainingRound: Bool {
        guard archipelago.latent != nil, let schedule = archipelago.schedule else { return false }
        return schedule.isTrainingRound(generation: generation, phase: archipelago.phase)
    }

    /// Exchanges every rank's metrics and timing; rank 0 logs them. Returns the generation's
    /// totals, which every rank computes alike from the same gathered reports.
    private func gather(evaluated: Int, timing: RankTiming) throws -> (evaluated: Int, best: Float, elapsed: Double) {
        let metrics = archipelago.islands.map {
            IslandMetrics(generation: generation, island: $0, phase: archipelago.phase.rawValue)
        }
        let exhausted = archipelago.islands.filter { !$0.population.fitness.contains(where: \.isFinite) }.map(\.index)
        let mine = GenerationReport(
            metrics: metrics, timing: timing, evaluated: evaluated, elapsed: elapsed, exhausted: exhausted,
            signal: options.interruption() ?? 0)
        watchdog?.heartbeat(stage: 2 * generation)
        let reports = try communicator.allgatherStrings(String(decoding: try JSONEncoder().encode(mine), as: UTF8.self))
            .map { try JSONDecoder().decode(GenerationReport.self, from: Data($0.utf8)) }
        let all = reports.flatMap(\.metrics).sorted { $0.island < $1.island }
        if let metricsLog, let timingsLog {
            for line in all { try metricsLog.append(line) }
            for report in reports { try timingsLog.append(report.timing) }
        }
        nonFinite = all.reduce(0) { $0 + $1.nonFinite }
        if nonFinite > 0 && !warnedNonFinite && communicator.rank == 0 {
            warnedNonFinite = true
            let islands = all.filter { $0.nonFinite > 0 }.map { String($0.island) }.joined(separator: ", ")
            options.warn(
                "generation \(generation): \(nonFinite) fitness value(s) on island(s) \(islands) are NaN or ±inf; "
                    + "they rank last (counted as non_finite in metrics.jsonl and in the progress line)")
        }
        exhaustedIslands = reports.flatMap(\.exhausted).sorted()
        interruptingSignal = reports.map(\.signal).first { $0 != 0 }
        // The best fitness evaluated so far on any island (re-scored populations included).
        return (
            reports.reduce(0) { $0 + $1.evaluated }, all.map(\.bestEver).max() ?? -.infinity,
            reports.map(\.elapsed).max() ?? 0
        )
    }

    /// Stops the run when an island's whole population has no finite fitness: selection has
    /// nothing to go on. Every rank decides alike (from the gathered reports), after a checkpoint
    /// of this generation, so the work so far is kept and the run can be resumed once the cause
    /// is fixed.
    private func stopIfExhausted() throws {
        guard !exhaustedIslands.isEmpty else { return }
        try writeCheckpoint(stopReason: nil)
        let islands = exhaustedIslands.map(String.init).joined(separator: ", ")
        throw RunError(
            """
            generation \(generation): every fitness on island(s) \(islands) is NaN or ±inf (a task or external evaluator \
            returning NaN, or weights overflowing — e.g. a huge evolution.mutation_sigma), so selection has nothing to go on. \
            A checkpoint of generation \(generation) is in \(store.directory.path): fix the cause and continue with \
            `atoll resume \(shellQuoted(directory.path))`, or start again with `atoll run --force`
            """, sharedByAllRanks: true)
    }

    /// Stops the run after this generation because a rank received SIGINT, SIGTERM, SIGUSR1 or SIGHUP:
    /// every rank saw the same gathered reports, so all stop here together, after a checkpoint of
    /// this generation (without a stop reason: the run resumes from it as if never stopped).
    ///
    /// - Throws: `RunInterrupted`, which the command turns into exit status 128 + the signal.
    private func stopInterrupted() throws {
        let number = interruptingSignal!
        try writeCheckpoint(stopReason: nil)
        showProgress(final: true)
        if communicator.rank == 0 {
            options.output(
                """
                Stopped by \(InterruptSignal.name(number)) after generation \(generation); its checkpoint is in \(store.directory.path).
                Continue with `atoll resume \(shellQuoted(directory.path))` (under mpirun, on any number of ranks).

                """)
        }
        throw RunInterrupted(signal: number)
    }

    private func writeCheckpoint(stopReason: StopReason?) throws {
        var files: [String: Data] = [:]
        let settings = try ResultSettings(config)
        for island in archipelago.islands {
            files[RunFolder.islandFileName(island.index)] = RunIdentity(settings: settings, island: island.index)
                .appended(to: try island.encoded())
        }
        if communicator.rank == 0, let metricsLog, let timingsLog, let metaLog {
            for log in [metricsLog, timingsLog, metaLog] { try log.synchronize() }
            let state = RunState(
                generation: generation, progress: progress, metricsBytes: try metricsLog.byteCount,
                timingsBytes: try timingsLog.byteCount, metaBytes: try metaLog.byteCount,
                phase: archipelago.phase, stopReason: stopReason, settings: settings, blas: blas)
            if let latent = archipelago.latent { files.merge(try latent.files()) { $1 } }
            files["run.json"] = try RunState.encoder.encode(state)
        }
        try store.write(generation: generation, files: files, communicator: communicator)
    }

    private func showProgress(final: Bool) {
        guard communicator.rank == 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard final || options.interactive || now - lastProgressLine >= 2_000_000_000 || generation == 1 else { return }
        lastProgressLine = now
        let rate = Double(progress.evaluations) / max(progress.elapsedSeconds, 1e-9)
        var line = String(format: "gen %d", generation)
        if let limit = config.stop.generations { line += "/\(limit)" }
        line += String(
            format: "  \(archipelago.searchSpace)  best %.6g  %d evals  %.0f evals/s  %@", progress.bestFitness,
            progress.evaluations, rate, Self.clock(progress.elapsedSeconds))
        if nonFinite > 0 { line += "  \(nonFinite) non-finite" }
        if let limit = config.stop.generations, generation > 0 {
            let left = progress.elapsedSeconds / Double(generation) * (Double(limit) - Double(generation))
            line += "  ~\(Self.clock(left)) left"
        }
        if options.interactive {
            options.output("\r\u{1B}[K" + line + (final ? "\n" : ""))
        } else {
            options.output(line + "\n")
        }
    }

    /// `seconds` as m:ss or h:mm:ss; negative or NaN as 0:00, past 99,999 hours as `>99999:00:00`.
    static func clock(_ seconds: Double) -> String {
        guard !(seconds >= 99_999 * 3600) else { return ">99999:00:00" }
        let s = seconds > 0 ? Int(seconds.rounded()) : 0
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    // MARK: The end

    /// Finds the best genome over all islands, writes `best.safetensors` and `summary.json`, and
    /// prints the summary table on rank 0.
    private func finish(stopReason: StopReason) throws -> RunSummary {
        let winner = try overallBest()
        let network = archipelago.network
        let genome = winner.genome

        var memory = [Double](repeating: 0, count: 1)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        memory[0] = Double(usage.ru_maxrss) / 1024
        let peaks = try communicator.allgather(memory)

        var summary = RunSummary(
            generations: generation, stopReason: stopReason.rawValue, fitnessName: archipelago.task.fitnessName,
            bestFitness: winner.fitness, bestIsland: winner.island, testAccuracy: nil,
            evaluations: progress.evaluations,
            wallSeconds: progress.elapsedSeconds, peakMemoryMiB: peaks, blas: blas, directory: directory.path)
        if let (report, record) = try fullEvaluation(of: winner, generation: generation) {
            if logsFullEvaluations && record.trainLoss != nil { try metricsLog?.append(record) }
            summary.trainAccuracy = report.split("train")?.accuracy
            summary.testAccuracy = report.split("test")?.accuracy
            var metadata = [
                "task": archipelago.task.name, "fitness": "\(winner.fitness)",
                "fitness_name": archipelago.task.fitnessName,
                "island": "\(winner.island)", "generation": "\(generation)",
            ]
            if let accuracy = summary.testAccuracy { metadata["test_accuracy"] = "\(accuracy)" }
            try folder?.writeResults(
                summary: summary, best: genome, network: network, metadata: metadata,
                metaLearner: try archipelago.latent?.files() ?? [:])
            options.output(summary.table())
        }
        return summary
    }
}

extension RunSummary {
    /// The summary as a table of figures with their units.
    public func table() -> String {
        var rows: [(String, String)] = [
            ("generations", "\(generations) (stopped by \(stopReason))"),
            ("best fitness (\(fitnessName))", String(format: "%.6g (island %d)", bestFitness, bestIsland)),
        ]
        if let trainAccuracy { rows.append(("train accuracy (all samples)", String(format: "%.4f", trainAccuracy))) }
        if let testAccuracy { rows.append(("test accuracy", String(format: "%.4f", testAccuracy))) }
        rows += [
            ("evaluations", "\(evaluations)"),
            ("wall time", String(format: "%.1f s", wallSeconds)),
            (
                "peak memory per rank",
                peakMemoryMiB.enumerated().map { String(format: "rank %d: %.0f MiB", $0.offset, $0.element) }.joined(
                    separator: ", ")
            ),
            ("BLAS", blas),
            ("results", directory),
        ]
        let width = rows.map(\.0.count).max()!
        return "\nAtoll run summary\n"
            + rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(
                separator: "\n") + "\n"
    }
}

/// A run that cannot go on, with the reason.
public struct RunError: Error, CustomStringConvertible {
    public let description: String
    /// Every rank has this error (it came through `agree`), so every rank can stop on its own
    /// without leaving another waiting.
    public let sharedByAllRanks: Bool

    public init(_ description: String, sharedByAllRanks: Bool = false) {
        self.description = description
        self.sharedByAllRanks = sharedByAllRanks
    }
}

/// A run stopped by SIGINT, SIGTERM, SIGUSR1 or SIGHUP after a checkpoint (every rank throws it together).
public struct RunInterrupted: Error, CustomStringConvertible {
    /// The signal's number.
    public let signal: Int32

    public var description: String { "stopped by \(InterruptSignal.name(signal))" }
}

/// `text` as one shell word: unchanged when it holds only characters no shell treats specially,
/// else in single quotes (a quote inside as `'\''`), so a printed command can be pasted as it is.
func shellQuoted(_ text: String) -> String {
    let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-=:,+@%")
    if !text.isEmpty && text.allSatisfy(plain.contains) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Runs `body` on every rank and shares failures: if it throws on any rank, every rank throws the
/// first rank's error, so no rank is left waiting in a collective for one that gave up.
func agree<R>(_ communicator: any Communicator, _ body: () throws -> R) throws -> R {
    var result: R?
    var failure = ""
    do {
        result = try body()
    } catch {
        failure = "\(error)"
    }
    let failures = try communicator.allgatherStrings(failure)
    if let first = failures.firstIndex(where: { !$0.isEmpty }) {
        let sameEverywhere = failures.allSatisfy { $0 == failures[first] }
        throw RunError(sameEverywhere ? failures[first] : "rank \(first): \(failures[first])", sharedByAllRanks: true)
    }
    return result!
}

/// Rank 0's value of `rank0`, on every rank.
func agreedValue(_ communicator: any Communicator, rank0: Int) throws -> Int {
    var value = [Int64(rank0)]
    try communicator.broadcast(&value, root: 0)
    return Int(value[0])
}
