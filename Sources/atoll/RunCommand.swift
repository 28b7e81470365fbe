import ArgumentParser
import CBLAS
import Collectives
import Foundation
import IslandModel
import Networks
import Synchronization

/// Options shared by `atoll run` and `atoll resume`.
struct LaunchOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Run this many ranks as threads of one process instead of MPI ranks (debugging; same results).",
            valueName: "N"))
    var localRanks: Int?

    @Flag(
        help:
            "Let ranks whose OpenBLAS kernels differ run together (needs `allreduce: fast`; the results are then not reproducible)."
    )
    var allowMixedBlas = false

    @Option(help: .hidden)
    var faultKillAfterCheckpoint: Int?

    @Option(help: .hidden)
    var faultKillRank: Int = 1

    func validate() throws {
        if let localRanks, localRanks < 1 { throw ValidationError("--local-ranks must be at least 1") }
    }

    /// Refuses `--local-ranks` above the island count before any thread starts (each would wait
    /// for the others in the first collective).
    func checkLocalRanks(islands: Int) throws {
        if let localRanks, localRanks > islands {
            throw ValidationError(
                "--local-ranks \(localRanks) for \(islands) islands: every rank needs at least one island; "
                    + "give at most \(islands) or raise islands.count")
        }
    }

    /// Runs `body` on every rank: the MPI world, or `--local-ranks` threads. Errors after the
    /// ranks have started stop every rank (MPI_Abort), so no rank waits for one that failed.
    func launch(_ body: @escaping @Sendable (any Communicator, Run.Options) throws -> Void) throws {
        // One BLAS thread per rank: results must not depend on how OpenBLAS splits work.
        openblas_set_num_threads(1)
        // SIGINT / SIGTERM / SIGUSR1 stop every rank after the current generation, with a checkpoint.
        InterruptSignal.install(announce: launcherRank() == 0)
        var options = Run.Options()
        // mpirun hands ranks a pseudo-terminal even when its own output is a file or a pipe, so
        // only a process started without a launcher redraws its progress line in place.
        options.interactive = isatty(STDOUT_FILENO) != 0 && !launchedByMPI()
        options.output = { text in StandardOutput.write(text) }
        options.allowMixedBLAS = allowMixedBlas
        if let generation = faultKillAfterCheckpoint { options.killAfterCheckpoint = (generation, faultKillRank) }
        let runOptions = options
        if let localRanks {
            do {
                _ = try LocalCommunicator.run(size: localRanks) { comm in try body(comm, runOptions) }
            } catch let interrupted as RunInterrupted {
                throw ExitCode(128 + interrupted.signal)
            }
        } else {
            let comm = MPICommunicator()
            do {
                try body(comm, runOptions)
            } catch let interrupted as RunInterrupted {
                // Every rank stopped after the same generation's checkpoint (exit 130 / 143).
                throw ExitCode(128 + interrupted.signal)
            } catch let error as RunError where error.sharedByAllRanks {
                // Every rank stops; rank 0 alone says why.
                if comm.rank == 0 { throw error }
                throw ExitCode.failure
            } catch {
                if comm.size == 1 { throw error }
                comm.abort(message: "\(error)")
            }
        }
    }
}

/// Standard output for progress lines and summaries. A write that fails (a closed pipe: `atoll run
/// … | head -1`; SIGPIPE is ignored) does not end the run: the run goes on, writing its files, and
/// the first failure is said once on standard error.
enum StandardOutput {
    private static let failed = Mutex(false)

    static func write(_ text: String) {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            let first = failed.withLock { failed in
                defer { failed = true }
                return !failed
            }
            if first {
                try? FileHandle.standardError.write(
                    contentsOf: Data(
                        "atoll: warning: standard output is closed (\(FileErrorReason.of(error))); the run goes on, its results go to its run folder\n"
                            .utf8))
            }
        }
    }
}

/// This process's rank as the launcher announces it (Open MPI, PMI, Slurm), 0 without one.
func launcherRank() -> Int {
    let environment = ProcessInfo.processInfo.environment
    for name in ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"] {
        if let value = environment[name], let rank = Int(value) { return rank }
    }
    return 0
}

/// Whether a launcher (mpirun, srun) started this process.
func launchedByMPI() -> Bool {
    let environment = ProcessInfo.processInfo.environment
    return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PROCID"].contains { environment[$0] != nil }
}

/// `atoll run CONFIG`: the main job.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run neuroevolution on islands as a config file describes.",
        discussion: """
            Launch under mpirun for several ranks (mpirun -np 2 atoll run configs/digits.yaml); the \
            islands are spread over the ranks in contiguous blocks, and the results are the same bits \
            on any number of ranks. The run folder gets config.yaml, metrics.jsonl, timings.jsonl, \
            checkpoints/, best.safetensors, summary.json, environment.json and report.html.
            """
    )

    @Argument(help: "The run's YAML config (see configs/).")
    var config: String

    @Option(help: "The run folder (default: output.directory of the config, else runs/<config name>).")
    var out: String?

    @Flag(help: "Replace what an existing run folder holds.")
    var force = false

    @OptionGroup var launchOptions: LaunchOptions

    func validate() throws {
        if let out, out.isEmpty { throw ValidationError("--out must name a folder, got an empty string") }
    }

    func run() throws {
        let configuration: RunConfig
        do {
            configuration = try RunConfig.load(path: config)
        } catch {
            // Every rank reads the file before MPI starts; only the first says what is wrong.
            if launcherRank() != 0 { throw ExitCode.failure }
            throw error
        }
        let name = URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent
        let folder = URL(fileURLWithPath: out ?? configuration.output.directory ?? "runs/\(name)")
        let force = self.force
        try launchOptions.checkLocalRanks(islands: configuration.islands.count)
        try launchOptions.launch { comm, options in
            var options = options
            options.force = force
            if comm.rank == 0 {
                options.output(
                    "Atoll run of \(config) on \(comm.size) rank(s), \(configuration.islands.count) islands → \(folder.path)\n"
                )
            }
            _ = try Run.start(config: configuration, directory: folder, communicator: comm, options: options)
            try RunFolderReport.write(folder: folder, communicator: comm, options: options, runEnded: true)
        }
    }
}

/// `atoll resume RUN_DIR`: continue a stopped run.
struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a run from its newest valid checkpoint, on the same or another number of ranks.",
        discussion: """
            A corrupt or truncated checkpoint is skipped with a warning naming it; the previous one is used. \
            The folder's config.yaml must match the checkpoint in every setting the results depend on \
            (network, islands, evolution, latent and meta settings, seed, …); a mismatch is refused, naming \
            each key. --generations N sets a new generation limit, which extends a finished run.
            """
    )

    @Argument(help: "The run folder (holding config.yaml and checkpoints/).")
    var runDirectory: String

    @Option(
        help: ArgumentHelp(
            "Run until generation N (stop.generations, written to config.yaml): extends a finished run.", valueName: "N"
        ))
    var generations: Int?

    @OptionGroup var launchOptions: LaunchOptions

    func validate() throws {
        if let generations, generations < 1 {
            throw ValidationError("--generations must be at least 1, got \(generations)")
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: runDirectory)
        let generations = self.generations
        if launchOptions.localRanks != nil,
            let config = try? RunConfig.load(path: folder.appendingPathComponent("config.yaml").path)
        {
            try launchOptions.checkLocalRanks(islands: config.islands.count)
        }
        try launchOptions.launch { comm, options in
            let summary = try Run.resume(
                directory: folder, communicator: comm, options: options, generations: generations)
            try RunFolderReport.write(folder: folder, communicator: comm, options: options, runEnded: summary != nil)
        }
    }
}
