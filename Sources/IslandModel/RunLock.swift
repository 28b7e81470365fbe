import Foundation
import Networks

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a run folder, held by rank 0 for the whole of a `run` or `resume`, so two
/// writers never mix their files in one folder.
///
/// The lock is `flock(LOCK_EX)` on `run.lock` in the folder, taken without waiting. The holder
/// writes its host, PID and start time into the file, so a refused writer can say who holds it.
/// The kernel drops the lock when the holder's file is closed or its process dies (even by
/// `SIGKILL`), so a crashed run never leaves a stale lock; the file itself stays (removing it
/// would let a third writer lock a new file while the second still holds the old one).
final class RunLock {
    static let fileName = "run.lock"

    let url: URL
    private let descriptor: Int32

    /// Takes the lock on `directory` (created if missing).
    ///
    /// - Parameter purpose: what the holder does, written into the file (`atoll run`, …).
    /// - Throws: `RunError` naming the holder if another process (or another run in this process)
    ///   holds it; file system errors.
    init(directory: URL, purpose: String) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create the run folder \(directory.path): \(FileErrorReason.of(error))")
        }
        url = directory.appendingPathComponent(Self.fileName)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RunError("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        // A few tries over half a second: another writer's `checkFree` holds the lock for an instant.
        var tries = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            tries += 1
            if reason == EWOULDBLOCK && tries < 10 {
                usleep(50_000)
                continue
            }
            close(descriptor)
            throw reason == EWOULDBLOCK
                ? Self.heldError(url) : RunError("cannot lock \(url.path): \(String(cString: strerror(reason)))")
        }
        let holder =
            "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName) (\(purpose), since \(ISO8601DateFormatter().string(from: Date())))\n"
        _ = ftruncate(descriptor, 0)
        _ = holder.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit {
        close(descriptor)
    }

    /// Fails, naming the holder, if `directory` is locked now; leaves the folder as it is (a probe
    /// before the expensive first generation; `init` takes the lock itself later).
    static func checkFree(_ directory: URL) throws {
        let url = directory.appendingPathComponent(fileName)
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK { throw heldError(url) }
    }

    private static func heldError(_ url: URL) -> RunError {
        let holder = ((try? String(contentsOf: url, encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
        return RunError(
            "\(url.deletingLastPathComponent().path) is in use by another Atoll run: "
                + (holder.isEmpty ? "a process whose host and PID are not yet written" : holder)
                + " holds \(url.path); wait for it to finish or stop it first")
    }
}
