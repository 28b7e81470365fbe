import CBLAS
import Collectives
import Foundation
import Testing

@testable import IslandModel

/// What keeps a run from losing work, hanging or mixing results: non-finite fitness, resume
/// against a changed configuration or damaged logs, the lock on the run folder, the BLAS kernel
/// record, and checks that run before anything is written.
@Suite("Run guards", .serialized)
struct RunGuardTests {
    static func folder() -> URL { RunTests.folder() }

    static func failure(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Every file's path and contents under `directory`.
    static func snapshot(_ directory: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return result }
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[path] = try Data(contentsOf: url)
            }
        }
        return result
    }

    /// `metrics.jsonl` parsed line by line (each line must be a JSON object).
    static func metrics(_ directory: URL) throws -> [[String: Any]] {
        try String(decoding: RunTests.bytes(directory, "metrics.jsonl"), as: UTF8.self).split(separator: "\n").map {
            try #require(
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not a JSON object: \($0)")
        }
    }

    /// A run finished, then made resumable from generation 4: as if killed after that checkpoint.
    static func interruptedRun(_ config: RunConfig) throws -> URL {
        let directory = folder()
        try RunTests.run(config, ranks: 2, in: directory)
        let fm = FileManager.default
        try fm.removeItem(at: directory.appendingPathComponent("checkpoints/00000006"))
        for name in ["best.safetensors", "summary.json"] {
            try fm.removeItem(at: directory.appendingPathComponent(name))
        }
        return directory
    }

    // MARK: Non-finite fitness

    @Test(
        "overflowing mutations give non-finite fitness: ranked last, counted in valid JSON lines, named in the progress line"
    )
    func nonFiniteFitnessIsCountedNotFatal() throws {
        var config = try RunConfig.parse(RunTests.tiny)
        config.evolution.mutationSigma = 1e20
        config.evolution.mutationRate = 1
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = Warnings()
        let warnings = Warnings()
        var options = RunTests.quiet()
        options.output = { lines.add($0) }
        options.warn = { warnings.add($0) }
        try RunTests.run(config, ranks: 2, in: directory, options: options)

        let metrics = try Self.metrics(directory)
        #expect(metrics.count == 4 * 7)
        for line in metrics {
            let generation = line["generation"] as! Int
            let nonFinite = line["non_finite"] as! Int
            // Generation 0 is PyTorch's initialisation; after it every child but the elite overflows,
            // and on migration generations (even) two finite immigrants replace the worst.
            #expect(nonFinite == (generation == 0 ? 0 : generation % 2 == 0 ? 3 : 5), "\(line)")
            for key in ["best", "mean", "median", "best_ever"] {
                #expect((line[key] as? Double)?.isFinite == true, "\(key) in \(line)")
            }
        }
        #expect(lines.all.contains { $0.contains("20 non-finite") }, "\(lines.all)")
        #expect(
            warnings.all.contains {
                $0.contains("generation 1: 20 fitness value(s) on island(s) 0, 1, 2, 3 are NaN or ±inf")
            }, "\(warnings.all)")
        let summary =
            try JSONSerialization.jsonObject(with: RunTests.bytes(directory, "summary.json")) as! [String: Any]
        #expect((summary["bestFitness"] as? Double)?.isFinite == true)
    }

    /// An external evaluator (Python) whose every fitness is NaN.
    static func nanEvaluator(in folder: URL) throws -> String {
        let script = folder.appendingPathComponent("nan-evaluator.py")
        try """
        import struct, sys
        i, o = sys.stdin.buffer, sys.stdout.buffer
        i.read(12); n = struct.unpack('<I', i.read(4))[0]; i.read(struct.unpack('<I', i.read(4))[0])
        for _ in range(struct.unpack('<I', i.read(4))[0]):
            i.read(struct.unpack('<I', i.read(4))[0]); r = struct.unpack('<I', i.read(4))[0]; i.read(4 * r + 4)
        o.write(b'ATOLLEV1' + struct.pack('<I', 1)); o.flush()
        while True:
            head = i.read(16)
            if len(head) < 16: break
            count = struct.unpack('<I', head[:4])[0]; i.read(4 * count * n)
            o.write(struct.pack('<I', count) + struct.pack('<%df' % count, *([float('nan')] * count))); o.flush()
        """.write(to: script, atomically: true, encoding: .utf8)
        return "external:python3 \(script.path)"
    }

    @Test("a population whose every fitness is NaN stops the run with a message and a checkpoint it can resume from")
    func allNonFiniteStopsWithCheckpoint() throws {
        let directory = Self.folder()
        let scratch = Self.folder()
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { for d in [directory, scratch] { try? FileManager.default.removeItem(at: d) } }
        var config = try RunConfig.parse(RunTests.tiny)
        config.task.name = try Self.nanEvaluator(in: scratch)
        config.network = .inline(.mlp([2, 3, 1]))
        config.islands.count = 2

        let message = Self.failure { try RunTests.run(config, ranks: 2, in: directory) }
        #expect(message.contains("generation 0: every fitness on island(s) 0, 1 is NaN or ±inf"), "\(message)")
        #expect(message.contains("atoll resume \(directory.path)"), "\(message)")
        let store = CheckpointStore(directory: directory.appendingPathComponent("checkpoints"))
        #expect(store.newestValid(warn: { _ in })?.generation == 0)
        let metrics = try Self.metrics(directory)
        #expect(metrics.count == 2)
        for line in metrics {
            #expect(line["non_finite"] as? Int == 6)
            #expect(line["best"] is NSNull && line["mean"] is NSNull && line["best_ever"] is NSNull, "\(line)")
        }

        // The checkpoint is a run to resume (here the evaluator still fails, one generation later).
        let again = Self.failure { try RunTests.resume(directory, ranks: 1) }
        #expect(again.contains("generation 1: every fitness on island(s) 0, 1 is NaN or ±inf"), "\(again)")
        #expect(store.newestValid(warn: { _ in })?.generation == 1)
    }

    // MARK: Resume against the configuration

    @Test("resume refuses a config.yaml that changed what the results depend on, naming every key, and touches nothing")
    func resumeRefusesChangedSettings() throws {
        let directory = try Self.interruptedRun(try RunConfig.parse(RunTests.tiny))
        defer { try? FileManager.default.removeItem(at: directory) }
        var changed = try RunConfig.load(path: directory.appendingPathComponent("config.yaml").path)
        changed.network = .inline(.mlp([64, 7, 10]))
        changed.islands.count = 2
        changed.islands.population = 8
        changed.evolution.elites = 2
        changed.seed = 4
        changed.stop.patience = 100  // allowed: how long it runs, not what it computes
        try Data(try changed.yaml().utf8).write(to: directory.appendingPathComponent("config.yaml"))
        let before = try Self.snapshot(directory)

        let message = Self.failure { try RunTests.resume(directory, ranks: 2) }
        for expected in [
            "islands.count: 4 in the checkpoint, 2 in config.yaml",
            "islands.population: 6 in the checkpoint, 8 in config.yaml",
            "evolution.elites: 1 in the checkpoint, 2 in config.yaml", "seed: 3 in the checkpoint, 4 in config.yaml",
            "network.layers[0].linear: 6 in the checkpoint, 7 in config.yaml",
        ] {
            #expect(message.contains(expected), "\(message)")
        }
        #expect(!message.contains("stop."))
        #expect(try Self.snapshot(directory) == before)
    }

    @Test(
        "the checkpoint records the whole evolution section, the network, islands, latent settings, seed and BLAS kernel"
    )
    func checkpointRecordsSettings() throws {
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(try RunConfig.parse(RunTests.tiny), ranks: 1, in: directory)
        let state = try RunState.decoder.decode(
            RunState.self, from: RunTests.bytes(directory, "checkpoints/00000006/run.json"))
        let keys = try #require(state.settings?.values.keys)
        for key in [
            "seed", "islands.count", "islands.population", "evolution.algorithm", "evolution.mutation_sigma",
            "latent.enabled",
            "meta.learning_rate", "network.input[0]", "network.layers[0].linear", "task.name", "allreduce",
        ] {
            #expect(keys.contains(key), "\(key)")
        }
        #expect(!keys.contains { $0.hasPrefix("stop.") || $0.hasPrefix("output.") })
        let core = String(cString: openblas_get_corename())
        #expect(state.blas?.contains("core \(core) (") == true, "\(state.blas ?? "nil")")
        let summary =
            try JSONSerialization.jsonObject(with: RunTests.bytes(directory, "summary.json")) as! [String: Any]
        #expect((summary["blas"] as? String) == state.blas)
    }

    @Test("resume --generations extends a finished run to the same bits as a run that long from the start")
    func extendFinishedRun() throws {
        let config = try RunConfig.parse(RunTests.tiny)
        var longer = config
        longer.stop.generations = 9
        let reference = Self.folder()
        let extended = Self.folder()
        defer { for d in [reference, extended] { try? FileManager.default.removeItem(at: d) } }
        try RunTests.run(longer, ranks: 1, in: reference)
        try RunTests.run(config, ranks: 2, in: extended)

        #expect(Self.failure { try RunTests.resumeTo(extended, generations: 6) }.contains("already at generation 6"))
        try RunTests.resumeTo(extended, generations: 9, ranks: 4)
        #expect(try RunTests.bytes(extended, "metrics.jsonl") == RunTests.bytes(reference, "metrics.jsonl"))
        #expect(try RunTests.bytes(extended, "best.safetensors") == RunTests.bytes(reference, "best.safetensors"))
        #expect(try RunConfig.load(path: extended.appendingPathComponent("config.yaml").path).stop.generations == 9)
        let results = try LocalCommunicator.run(size: 1) { comm in
            try Run.resume(directory: extended, communicator: comm, options: RunTests.quiet()) == nil
        }
        #expect(results == [true], "finished again at generation 9")
    }

    // MARK: Damaged logs

    @Test(
        "resume refuses a metrics.jsonl shorter than the checkpoint recorded, or deleted, and never pads it",
        arguments: ["truncated", "emptied", "deleted"])
    func shortLogIsRefused(damage: String) throws {
        let directory = try Self.interruptedRun(try RunConfig.parse(RunTests.tiny))
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("metrics.jsonl")
        switch damage {
        case "truncated": try Data(try Data(contentsOf: log).prefix(100)).write(to: log)
        case "emptied": try Data().write(to: log)
        default: try FileManager.default.removeItem(at: log)
        }
        let before = try Self.snapshot(directory)
        let message = Self.failure { try RunTests.resume(directory, ranks: 1) }
        #expect(message.contains("metrics.jsonl"), "\(message)")
        #expect(message.contains(damage == "deleted" ? "is missing" : "fewer than the"), "\(message)")
        #expect(message.contains("never padded"), "\(message)")
        #expect(try Self.snapshot(directory) == before)
    }

    // MARK: The lock

    @Test(
        "while a run holds its folder, a second run, run --force or resume into it is refused naming the holder's host and PID"
    )
    func secondWriterIsRefused() throws {
        let config = try RunConfig.parse(RunTests.tiny)
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A resumable folder first, then a run that pauses (holding the lock) in its first progress line.
        try RunTests.run(config, ranks: 1, in: directory)
        let paused = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        var holding = RunTests.quiet()
        holding.force = true
        let once = Warnings()
        holding.output = { line in
            guard line.hasPrefix("gen 1"), once.all.isEmpty else { return }
            once.add(line)
            paused.signal()
            proceed.wait()
        }
        let first = Warnings()
        let options = holding
        let thread = Thread {
            first.add(Self.failure { try RunTests.run(config, ranks: 2, in: directory, options: options) })
            paused.signal()
        }
        thread.start()
        paused.wait()

        var force = RunTests.quiet()
        force.force = true
        let holder = "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)"
        for (name, attempt) in [
            ("run", { try RunTests.run(config, ranks: 1, in: directory) }),
            ("run --force", { try RunTests.run(config, ranks: 1, in: directory, options: force) }),
            ("resume", { try RunTests.resume(directory, ranks: 1) }),
        ] as [(String, () throws -> Void)] {
            let message = Self.failure(attempt)
            #expect(message.contains("is in use by another Atoll run: \(holder) (atoll run"), "\(name): \(message)")
        }
        proceed.signal()
        paused.wait()
        #expect(first.all == ["no error"], "the first run finishes undisturbed")
        #expect(try Self.metrics(directory).count == 4 * 7)
        // Released at the end: the folder can be resumed (it is finished) or replaced again.
        try RunTests.run(config, ranks: 1, in: directory, options: force)
    }

    @Test(
        "a run killed after its last checkpoint but before its results gets them on resume, equal to the uninterrupted run's"
    )
    func resumeWritesMissingResults() throws {
        let config = try RunConfig.parse(RunTests.tiny + "\ntask: {name: digits, options: {batch: 64, eval_every: 2}}")
        let reference = Self.folder()
        let directory = Self.folder()
        defer { for d in [reference, directory] { try? FileManager.default.removeItem(at: d) } }
        try RunTests.run(config, ranks: 1, in: reference)
        try RunTests.run(config, ranks: 2, in: directory)
        // As if killed after the checkpoint that records the stop: no results, and the final
        // full evaluation's line (written after that checkpoint) cut off.
        let state = try RunState.decoder.decode(
            RunState.self, from: RunTests.bytes(directory, "checkpoints/00000006/run.json"))
        #expect(state.stopReason == .generations)
        let metrics = directory.appendingPathComponent("metrics.jsonl")
        try RunTests.bytes(directory, "metrics.jsonl").prefix(Int(state.metricsBytes)).write(to: metrics)
        for name in ["best.safetensors", "summary.json"] {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        try RunTests.resume(directory, ranks: 4)
        for name in ["metrics.jsonl", "best.safetensors"] {
            #expect(try RunTests.bytes(directory, name) == RunTests.bytes(reference, name), "\(name)")
        }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("summary.json").path))
        // With its results, the run is finished: resume says so and changes nothing.
        let before = try Self.snapshot(directory)
        let summaries = try LocalCommunicator.run(size: 1) { comm in
            try Run.resume(directory: directory, communicator: comm, options: RunTests.quiet()) == nil
        }
        #expect(summaries == [true])
        #expect(try Self.snapshot(directory).keys.sorted() == before.keys.sorted())
    }

    // MARK: Checks before writing

    @Test("a run folder that cannot be created (under /proc) is one line naming the path and the reason")
    func uncreatableFolder() throws {
        let directory = URL(fileURLWithPath: "/proc/atoll-\(UUID().uuidString)")
        let message = Self.failure { try RunTests.run(try RunConfig.parse(RunTests.tiny), ranks: 1, in: directory) }
        #expect(message == "cannot create the run folder \(directory.path): no such file or directory", "\(message)")
    }

    @Test("a pre-trained meta-learner that is not one fails before the run folder exists, naming the companion file")
    func badPretrainedLeavesNoFolder() throws {
        let scratch = Self.folder()
        let directory = Self.folder()
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { for d in [scratch, directory] { try? FileManager.default.removeItem(at: d) } }
        // A finished run's best network, with a JSON file beside it that is no meta-learner state.
        let weights = scratch.appendingPathComponent("best.safetensors")
        try Data("{}".utf8).write(to: weights)
        try Data("{\"format\": \"atoll-run\"}".utf8).write(to: scratch.appendingPathComponent("best.json"))
        var config = try RunConfig.parse(RunTests.tinyLatent)
        config.meta.pretrained = weights.path
        let message = Self.failure { try RunTests.run(config, ranks: 1, in: directory) }
        #expect(message.contains("meta.pretrained"), "\(message)")
        #expect(message.contains(scratch.appendingPathComponent("best.json").path), "\(message)")
        #expect(message.contains("not a meta-learner"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}

extension RunTests {
    /// `atoll resume --generations N` on `ranks` local ranks.
    static func resumeTo(_ directory: URL, generations: Int, ranks: Int = 1) throws {
        _ = try LocalCommunicator.run(size: ranks) { comm in
            try Run.resume(directory: directory, communicator: comm, options: quiet(), generations: generations)
        }
    }
}

@Suite("Progress line clock and printed commands")
struct ProgressClockTests {
    @Test("the time-left clock is bounded: huge, infinite, negative or NaN seconds never trap or print a negative time")
    func boundedClock() {
        #expect(Run.clock(75) == "1:15")
        #expect(Run.clock(3725) == "1:02:05")
        #expect(Run.clock(-3.0e12) == "0:00")
        #expect(Run.clock(.nan) == "0:00")
        #expect(Run.clock(9.2e18 * 1.5) == ">99999:00:00")
        #expect(Run.clock(.infinity) == ">99999:00:00")
    }

    @Test("a path in a printed command is quoted when a shell would split or expand it")
    func quoting() {
        #expect(shellQuoted("runs/digits") == "runs/digits")
        #expect(shellQuoted("/tmp/my runs/a") == "'/tmp/my runs/a'")
        #expect(shellQuoted("it's") == #"'it'\''s'"#)
        #expect(shellQuoted("$HOME") == "'$HOME'")
        #expect(shellQuoted("") == "''")
    }
}

@Suite("Watchdog")
struct WatchdogTests {
    @Test("the limit is max(min_seconds, factor × the median of recent generations), armed after three")
    func limit() throws {
        var settings = WatchdogSection()
        settings.factor = 10
        settings.minSeconds = 3
        #expect(Watchdog.limit(recent: [1, 1], settings: settings) == nil)
        #expect(Watchdog.limit(recent: [0.1, 0.2, 5], settings: settings) == 3)
        #expect(Watchdog.limit(recent: [0.5, 0.4, 9, 0.6], settings: settings) == 6)
    }

    @Test("ranks behind the furthest heartbeat are named; a missing heartbeat counts as behind")
    func laggards() {
        #expect(Watchdog.laggards(stages: [8, 8, 8]).isEmpty)
        #expect(Watchdog.laggards(stages: [9, 8, 9, -1]) == [1, 3])
    }

    @Test("the watchdog section is checked and left out of what a resume compares")
    func section() throws {
        #expect(throws: ConfigError.self) { try RunConfig.parse("watchdog: {factor: 0.5}") }
        #expect(throws: ConfigError.self) { try RunConfig.parse("watchdog: {min_seconds: 0}") }
        let on = try ResultSettings(try RunConfig.parse("stop: {generations: 2}"))
        let off = try ResultSettings(
            try RunConfig.parse("stop: {generations: 2}\nwatchdog: {enabled: false, min_seconds: 5}"))
        #expect(on.differences(from: off).isEmpty)
    }
}

@Suite("Memory estimate")
struct MemoryEstimateTests {
    @Test(
        "the estimate counts islands per rank × population × parameters × 4 B × the algorithm's copies, and refuses past the tightest limit"
    )
    func estimate() throws {
        let config = try RunConfig.parse(
            "network: mlp:64-8-10\nislands: {count: 4, population: 100}\nstop: {generations: 1}")
        // 4 islands on 2 ranks: 2 per rank; GA: 3 copies. 2 × 100 × 610 × 4 × 3 = 1,464,000 bytes.
        let estimate = try MemoryEstimate(config: config, parameterCount: 610, rankCount: 2)
        #expect(estimate.addedBytes == 1_464_000)
        let snes = try MemoryEstimate(
            config: try RunConfig.parse(
                "network: mlp:64-8-10\nislands: {count: 4, population: 100}\nevolution: {algorithm: snes}"),
            parameterCount: 610, rankCount: 2)
        #expect(snes.addedBytes == 976_000)
        let physical = MemoryEstimate.Limit(bytes: 8_000_000, source: "physical", addressSpace: false)
        let cgroup = MemoryEstimate.Limit(bytes: 4_000_000, source: "cgroup", addressSpace: false)
        // Fits: 1.5 MB + 1 MB in use within 4 MB.
        try estimate.check(
            ranksInProcess: 1, ranksOnHost: 1, limits: [physical, cgroup], resident: 1_000_000, addressSpace: 50_000_000
        )
        // Two ranks on the host share the cgroup: 2 MB each, 1 MB in use, 1.46 MB more does not fit; the cgroup is named.
        #expect(throws: RunError.self) {
            try estimate.check(
                ranksInProcess: 1, ranksOnHost: 2, limits: [physical, cgroup], resident: 1_000_000, addressSpace: 0)
        }
        do {
            try estimate.check(
                ranksInProcess: 1, ranksOnHost: 2, limits: [physical, cgroup], resident: 1_000_000, addressSpace: 0)
        } catch {
            #expect("\(error)".contains("the limit is 4 MB (cgroup) shared by 2 processes on this host"), "\(error)")
        }
        // An address-space limit counts the address space in use, not the resident set.
        let ulimit = MemoryEstimate.Limit(bytes: 60_000_000, source: "ulimit", addressSpace: true)
        #expect(throws: RunError.self) {
            try estimate.check(
                ranksInProcess: 1, ranksOnHost: 1, limits: [ulimit], resident: 0, addressSpace: 59_000_000)
        }
    }

    @Test("a product past Int.max is an error naming the key, not a trap")
    func overflow() throws {
        let config = try RunConfig.parse("islands: {count: 1, population: 1152921504606846976}")
        #expect(throws: RunError.self) { try MemoryEstimate(config: config, parameterCount: 2410, rankCount: 1) }
    }
}
