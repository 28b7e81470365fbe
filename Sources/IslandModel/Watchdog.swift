import Foundation
import Synchronization

/// Ends a run whose generation takes far longer than its recent ones.
///
/// A rank that stops answering — stopped (`SIGSTOP`), swapping, a hung evaluator, a dead node
/// whose connection has not dropped — leaves every other rank waiting in the generation's
/// allgather, with no message and no end. Every rank therefore runs a watchdog thread that
/// compares the time since its generation began with
///
///     limit = max(min_seconds, factor × median of the last 10 generations' durations)
///
/// (armed once three generations are timed; `WatchdogSection`). Every rank also leaves a
/// heartbeat in the run folder (which the checkpoints already need on a file system every rank
/// sees): `.heartbeats/rank-NNNNN` holds the last stage it reached, 2g once generation g's
/// evolution is done (before its allgather) and 2g + 1 once the whole generation (checkpoint
/// included) is. When the limit passes, the lowest rank that is not behind names the ranks
/// whose stage is below the furthest one or whose own watchdog did not answer (a stopped rank's
/// cannot), with their host and process id, and every rank whose watchdog runs exits with
/// status 1; the launcher then ends the rest. The work since the last
/// checkpoint is lost (a checkpoint needs every rank); `atoll resume` continues from it.
final class Watchdog: @unchecked Sendable {
    private struct State {
        var generation = 0
        var start: UInt64 = 0
        var recent: [Double] = []
        var running = true
    }

    let settings: WatchdogSection
    let rank: Int
    let size: Int
    let heartbeats: URL
    let resumeCommand: String
    private let state = Mutex(State())
    private let host = ProcessInfo.processInfo.hostName

    init(settings: WatchdogSection, rank: Int, size: Int, runDirectory: URL, resumeCommand: String) {
        self.settings = settings
        self.rank = rank
        self.size = size
        heartbeats = runDirectory.appendingPathComponent(".heartbeats")
        self.resumeCommand = resumeCommand
        try? FileManager.default.createDirectory(at: heartbeats, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: aliveFile(of: rank))  // from an earlier process in this folder
    }

    /// The longest a generation may take after `recent` durations (seconds), or `nil` while
    /// fewer than three are known.
    static func limit(recent: [Double], settings: WatchdogSection) -> Double? {
        guard recent.count >= 3 else { return nil }
        let median = recent.sorted()[recent.count / 2]
        return max(settings.minSeconds, settings.factor * median)
    }

    /// The ranks behind the furthest stage in `stages` (a missing heartbeat counts as stage −1).
    static func laggards(stages: [Int]) -> [Int] {
        guard let furthest = stages.max() else { return [] }
        return stages.indices.filter { stages[$0] < furthest }
    }

    /// Starts the thread that watches this rank's generations.
    func start() {
        let thread = Thread { [self] in watch() }
        thread.name = "atoll-watchdog"
        thread.start()
    }

    /// Stops the thread (at the run's end, normal or not).
    func stop() {
        state.withLock { $0.running = false }
    }

    /// Generation `generation` begins now.
    func begin(generation: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock {
            $0.generation = generation
            $0.start = now
        }
    }

    /// The generation that began with `begin` ended now.
    func end() {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock {
            guard $0.start != 0 else { return }
            $0.recent.append(Double(now - $0.start) * 1e-9)
            if $0.recent.count > 10 { $0.recent.removeFirst() }
            $0.start = 0
        }
    }

    /// Records that this rank reached `stage` (2g: generation g evolved; 2g + 1: g done).
    func heartbeat(stage: Int) {
        let text = "\(stage) \(host) \(getpid())\n"
        try? Data(text.utf8).write(to: file(of: rank))
    }

    private func file(of rank: Int) -> URL {
        heartbeats.appendingPathComponent(String(format: "rank-%05d", rank))
    }

    private func watch() {
        while true {
            usleep(500_000)
            let (running, generation, start, recent) = state.withLock {
                ($0.running, $0.generation, $0.start, $0.recent)
            }
            guard running else { return }
            guard start != 0, let limit = Self.limit(recent: recent, settings: settings) else { continue }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            guard elapsed > limit else { continue }
            fire(generation: generation, elapsed: elapsed, limit: limit, recent: recent)
        }
    }

    /// Names the ranks that did not answer and ends this process.
    ///
    /// Every rank whose watchdog fires first marks itself alive (`rank-NNNNN.alive`), then waits
    /// a grace period (2 s + a tenth of the limit, at most 30 s) for the others to do the same: a
    /// rank that is stopped or gone cannot, even when its last heartbeat is as far as everyone's
    /// (it stopped inside the allgather). A rank named is one that did not mark itself alive, or
    /// whose stage is behind the furthest.
    private func fire(generation: Int, elapsed: Double, limit: Double, recent: [Double]) {
        try? Data("\(generation)\n".utf8).write(to: aliveFile(of: rank))
        usleep(UInt32(min(30, 2 + 0.1 * limit) * 1e6))
        var stages: [Int] = []
        var whereabouts: [String] = []
        var silent: [Int] = []
        for r in 0..<size {
            let fields = ((try? String(contentsOf: file(of: r), encoding: .utf8)) ?? "").split(separator: " ")
            stages.append(fields.first.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? -1)
            whereabouts.append(
                fields.count >= 3
                    ? "host \(fields[1]), pid \(fields[2].trimmingCharacters(in: .whitespacesAndNewlines))"
                    : "no heartbeat")
            let alive = (try? String(contentsOf: aliveFile(of: r), encoding: .utf8)).flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if alive != generation { silent.append(r) }
        }
        let behind = Self.laggards(stages: stages)
        let named = (0..<size).filter { silent.contains($0) || behind.contains($0) }
        let reporter = (0..<size).first { !named.contains($0) } ?? rank
        if rank == reporter {
            func stage(_ s: Int) -> String {
                s < 0
                    ? "no generation yet"
                    : s % 2 == 0
                        ? "generation \(s / 2) evolved, before its allgather" : "the end of generation \(s / 2)"
            }
            let list = named.map { r in
                "rank \(r) (\(whereabouts[r]); last reached \(stage(stages[r]))\(silent.contains(r) ? "; its watchdog did not answer either: stopped or gone" : ""))"
            }.joined(separator: ", ")
            let median = recent.sorted()[recent.count / 2]
            let message =
                "\natoll: watchdog: generation \(generation) has run \(String(format: "%.0f", elapsed)) s, more than its limit of "
                + "\(String(format: "%.0f", limit)) s (max of watchdog.min_seconds \(String(format: "%g", settings.minSeconds)) and "
                + "watchdog.factor \(String(format: "%g", settings.factor)) × the recent median \(String(format: "%.3g", median)) s). "
                + (named.isEmpty
                    ? "Every rank is alive and at the same stage: one hangs inside a collective or a checkpoint. "
                    : "Did not answer: \(list). ")
                + "The run ends; continue from its last checkpoint with `\(resumeCommand)` "
                + "(or raise watchdog.min_seconds, or set watchdog.enabled: false).\n"
            try? FileHandle.standardError.write(contentsOf: Data(message.utf8))
        } else {
            usleep(1_000_000)  // let the reporter speak first
        }
        _exit(1)
    }

    private func aliveFile(of rank: Int) -> URL {
        heartbeats.appendingPathComponent(String(format: "rank-%05d.alive", rank))
    }
}
