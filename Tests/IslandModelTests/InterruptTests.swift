import Collectives
import Foundation
import Synchronization
import Testing

@testable import IslandModel

/// SIGINT / SIGTERM as a request to stop: every rank stops after the same generation, with a
/// checkpoint the run resumes from to the bits of an uninterrupted run. (The real signals, to a
/// bare process and to `mpirun`, are sent in `scripts/test-mpi.sh`.)
@Suite("Interrupted runs", .serialized)
struct InterruptTests {
    /// Options whose interruption source reports `signal` on the `call`-th query only (counted
    /// over all ranks), so exactly one rank sees it, in one generation.
    static func interrupting(at call: Int, signal: Int32, output: @escaping (String) -> Void = { _ in }) -> Run.Options
    {
        let calls = Atomic<Int>(0)
        var options = RunTests.quiet()
        options.output = output
        options.interruption = { calls.add(1, ordering: .relaxed).newValue == call ? signal : nil }
        return options
    }

    @Test("a signal seen by one rank of two stops both after that generation, with a checkpoint and the resume command")
    func oneRankStopsAll() throws {
        let config = try RunConfig.parse(RunTests.tiny)
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = Mutex<[String]>([])
        // Two queries per generation (one per rank), generation 0 first: call 7 is in generation 3.
        let options = Self.interrupting(at: 7, signal: SIGTERM) { text in lines.withLock { $0.append(text) } }
        var thrown: (any Error)?
        do {
            try RunTests.run(config, ranks: 2, in: directory, options: options)
        } catch {
            thrown = error
        }
        let interrupted = try #require(thrown as? RunInterrupted, "\(String(describing: thrown))")
        #expect(interrupted.signal == SIGTERM)
        let checkpoints = try FileManager.default.contentsOfDirectory(
            atPath: directory.appendingPathComponent("checkpoints").path
        ).sorted()
        // checkpoint_every 2: generation 2 as usual, then generation 3 for the signal.
        #expect(checkpoints == ["00000002", "00000003"])
        let state = try RunState.decoder.decode(
            RunState.self, from: RunTests.bytes(directory, "checkpoints/00000003/run.json"))
        #expect(state.stopReason == nil)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("best.safetensors").path))
        let said = lines.withLock { $0.joined() }
        #expect(said.contains("Stopped by SIGTERM after generation 3"), "\(said)")
        #expect(said.contains("atoll resume \(directory.path)"), "\(said)")
    }

    @Test(
        "a run stopped by a signal in generation 0 or later resumes on another rank count to the bits of an uninterrupted run",
        arguments: [1, 4])
    func resumedMatchesUninterrupted(call: Int) throws {
        let config = try RunConfig.parse(RunTests.tiny)
        let reference = RunTests.folder()
        let directory = RunTests.folder()
        defer { for d in [reference, directory] { try? FileManager.default.removeItem(at: d) } }
        try RunTests.run(config, ranks: 1, in: reference)
        #expect(throws: RunInterrupted.self) {
            try RunTests.run(config, ranks: 2, in: directory, options: Self.interrupting(at: call, signal: SIGINT))
        }
        try RunTests.resume(directory, ranks: 4)
        for name in ["metrics.jsonl", "best.safetensors"] {
            #expect(try RunTests.bytes(directory, name) == RunTests.bytes(reference, name), "\(name)")
        }
    }
}

@Suite("Repeated stop signals")
struct RepeatedSignalTests {
    @Test("the same signal again within 1 s is the same request; 1 s or more later it ends the process at once")
    func repeatWindow() {
        let t: Int64 = 5_000_000_000
        // Slurm's second SIGTERM, milliseconds later.
        #expect(!InterruptSignal.endsAtOnce(first: t, now: t + 3_000_000))
        #expect(!InterruptSignal.endsAtOnce(first: t, now: t + 999_999_999))
        #expect(InterruptSignal.endsAtOnce(first: t, now: t + 1_000_000_000))  // a second Ctrl-C after a pause
        #expect(!InterruptSignal.endsAtOnce(first: 0, now: t))  // the first's time not stored yet: simultaneous
    }

    @Test("SIGHUP is a stop signal, named in the message")
    func hangUp() {
        #expect(InterruptSignal.stopSignals.contains(SIGHUP))
        #expect(InterruptSignal.name(SIGHUP) == "SIGHUP")
    }
}
