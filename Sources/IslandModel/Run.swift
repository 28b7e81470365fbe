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
    let folder: RunFolder?
    /// The ranks' BLAS kernel(s) (`BLASKernel.agree`).
    let blas: String
    var metricsLog: JSONLinesLog?
    private var timingsLog: JSONLinesLog?
    private var metaLog: JSONLinesLog?
    var progress: RunProgress
    var generation: Int
    private let startTime = DispatchTime.now().uptimeNanoseconds
    private let elapsedOffset: Double
    private var lastCheckpointSeconds = 0.0
    var lastProgressLine = DispatchTime.now().uptimeNanoseconds
    /// Non-finite fitness values in the islands' populations after the latest generation.
    var nonFinite = 0
    private var warnedNonFinite = false
    /// Islands whose population has no finite fitness after the latest generation.
    private var exhaustedIslands: [Int] = []
    /// The first signal any rank reported in the latest generation's reports (rank order).
    var interruptingSignal: Int32?
    /// Ends the run when a generation takes far longer than the recent ones (MPI ranks only:
    /// `LocalCommunicator` has its own timeout).
    private let watchdog: Watchdog?

    init(
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

    // MARK: The generation loop

    private var elapsed: Double {
        elapsedOffset + Double(DispatchTime.now().uptimeNanoseconds - startTime) * 1e-9
    }

    func loop() throws -> RunSummary {
        var stopReason = config.stop.criteria.reason(toStop: progress)
        watchdog?.start()
        defer { watchdog?.stop() }
        while stopReason == nil {
            generation += 1
            watchdog?.begin(generation: generation)
            var timing = RankTiming(generation: generation, rank: communicator.rank)
            timing.checkpoint = lastCheckpointSeconds
            let t0 = DispatchTime.now().uptimeNanoseconds
            archipelago.evaluator.decodeSeconds = 0
            var evaluated = try archipelago.evolve(generation: generation)
            timing.decode = archipelago.evaluator.decodeSeconds
            let t1 = DispatchTime.now().uptimeNanoseconds
            if generation % config.migration.interval == 0 { try archipelago.migrate(generation: generation) }
            let t2 = DispatchTime.now().uptimeNanoseconds
            if let design = archipelago.design, design.isTrainingRound(generation: generation) {
                let round = try design.round(after: generation, in: archipelago)
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

    /// Exchanges every rank's metrics and timing; rank 0 logs them. Returns the generation's
    /// totals, which every rank computes alike from the same gathered reports.
    func gather(evaluated: Int, timing: RankTiming) throws -> (evaluated: Int, best: Float, elapsed: Double) {
        let metrics = archipelago.islands.map {
            IslandMetrics(generation: generation, island: $0, phase: archipelago.phase.rawValue)
        }
        let exhausted = archipelago.islands.filter { !$0.population.fitness.contains(where: \.isFinite) }.map(\.index)
        watchdog?.heartbeat(stage: 2 * generation)
        let reports = try archipelago.gather(
            RankReport(
                metrics: metrics, timing: timing, evaluated: evaluated, elapsed: elapsed, exhausted: exhausted,
                signal: options.interruption() ?? 0))
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
    func stopIfExhausted() throws {
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
    func stopInterrupted() throws {
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

    func writeCheckpoint(stopReason: StopReason?) throws {
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
            if let design = archipelago.design { files.merge(try design.metaLearner.files()) { $1 } }
            files["run.json"] = try RunState.encoder.encode(state)
        }
        try store.write(generation: generation, files: files, communicator: communicator)
    }

}
