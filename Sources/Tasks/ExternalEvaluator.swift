import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an external evaluator failed; every message names the command.
public enum ExternalEvaluatorError: Error, CustomStringConvertible {
    case launchFailed(command: String, reason: String)
    case exited(command: String, status: Int32, during: String)
    case timedOut(command: String, seconds: Double, during: String)
    case badAcknowledgement(command: String, received: [UInt8])
    case wrongCount(command: String, expected: Int, received: Int)
    case ioError(command: String, reason: String)

    public var description: String {
        switch self {
        case .launchFailed(let command, let reason):
            "external evaluator '\(command)': could not start: \(reason)"
        case .exited(let command, let status, let during):
            "external evaluator '\(command)' exited (\(Self.describe(status))) while \(during); its stderr is shown above"
        case .timedOut(let command, let seconds, let during):
            "external evaluator '\(command)' did not answer within \(seconds) s while \(during); it was killed"
        case .badAcknowledgement(let command, let received):
            "external evaluator '\(command)': expected the acknowledgement \"ATOLLEV1\" + version 1, received bytes \(received.map { String(format: "%02x", $0) }.joined(separator: " ")) (is it writing text to stdout? log to stderr instead)"
        case .wrongCount(let command, let expected, let received):
            "external evaluator '\(command)': sent \(expected) genomes but the reply holds \(received) fitness values"
        case .ioError(let command, let reason):
            "external evaluator '\(command)': \(reason)"
        }
    }

    private static func describe(_ status: Int32) -> String {
        status >= 0 ? "status \(status)" : "killed by signal \(-status)"
    }
}

/// A running external evaluator: a child process that speaks `ExternalProtocol`.
///
/// The child is started with the header already known, answers the handshake, then scores
/// batches. Every exchange (handshake, each batch) has its own deadline; a child that misses it is
/// killed and the call throws. A child that exits, or answers with a different number of values
/// than it was sent, makes the call throw too, and the evaluator is unusable afterwards. Not thread
/// safe: one batch at a time. `SIGPIPE` is ignored process-wide so that writing to a dead child
/// is an error instead of killing Atoll.
///
/// The child runs in its own process group (`posix_spawn` with `POSIX_SPAWN_SETPGROUP`), and Atoll
/// kills the whole group — the child and anything it forked — on a deadline, on a failure and when
/// the evaluator is released. Nothing waits without a bound: a child that exits while a process it
/// forked still holds its stdout is noticed within `pollSlice` (not at EOF, which never comes), and
/// reaping is `waitpid(WNOHANG)` with a deadline.
public final class ExternalEvaluator {
    /// The command line (program and arguments), as given.
    public let command: [String]
    /// Seconds allowed for the handshake and for each batch.
    public let timeout: Double
    /// Genome length announced in the header.
    public let parameterCount: Int

    /// The child's PID, which is also its process group's id.
    private let pid: pid_t
    /// The child's exit status once reaped: the code, or minus the signal that killed it.
    private var exitStatus: Int32?
    private let toChild: Int32
    private let fromChild: Int32
    private var failed: ExternalEvaluatorError?
    private var commandText: String { command.joined(separator: " ") }
    /// Longest wait in `poll` between checks that the child is still running, in milliseconds.
    static let pollSlice: Int32 = 100

    /// Starts `command` (looked up on `PATH`), sends `header` and waits for the acknowledgement.
    ///
    /// - Throws: `ExternalEvaluatorError` if the program cannot start, exits, times out or
    ///   acknowledges wrongly.
    public init(command: [String], header: [UInt8], parameterCount: Int, timeout: Double) throws {
        precondition(!command.isEmpty, "empty command")
        precondition(timeout > 0, "timeout must be positive")
        signal(SIGPIPE, SIG_IGN)
        self.command = command
        self.timeout = timeout
        self.parameterCount = parameterCount
        let text = command.joined(separator: " ")
        func failure(_ call: String, _ code: Int32) -> ExternalEvaluatorError {
            .launchFailed(command: text, reason: "\(call): \(String(cString: strerror(code)))")
        }
        // [read end, write end] of each pipe; close-on-exec, so the child keeps only its dup2 copies
        // (and children other threads start do not inherit them).
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0 else { throw failure("pipe", errno) }
        guard pipe(&stdoutPipe) == 0 else {
            let code = errno
            close(stdinPipe[0])
            close(stdinPipe[1])
            throw failure("pipe", code)
        }
        for fd in stdinPipe + stdoutPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], STDOUT_FILENO)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group led by the child; default signal handling (SIGPIPE is ignored here)
        // and no blocked signals.
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        var none = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        let arguments = (["/usr/bin/env"] + command).map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, "/usr/bin/env", &actions, &attributes, arguments, environ)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        guard spawned == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            throw failure("posix_spawn", spawned)
        }
        pid = child
        toChild = stdinPipe[1]
        fromChild = stdoutPipe[0]
        _ = fcntl(toChild, F_SETFL, fcntl(toChild, F_GETFL) | O_NONBLOCK)

        let deadline = Deadline(seconds: timeout)
        try exchange(during: "reading the header") {
            try header.withUnsafeBytes { try send($0, deadline: deadline, during: "reading the header") }
        }
        var acknowledgement = [UInt8](repeating: 0, count: 12)
        try exchange(during: "acknowledging the header") {
            try acknowledgement.withUnsafeMutableBytes {
                try receive($0, deadline: deadline, during: "acknowledging the header")
            }
        }
        guard Array(acknowledgement[0..<8]) == ExternalProtocol.magic,
            ExternalProtocol.readUInt32(acknowledgement, at: 8) == ExternalProtocol.version
        else {
            terminate()
            throw ExternalEvaluatorError.badAcknowledgement(command: commandText, received: acknowledgement)
        }
    }

    deinit {
        close(toChild)
        // Give a well-behaved child a moment to exit after EOF, then kill its group (anything it
        // forked included) either way.
        let deadline = Deadline(seconds: 1)
        while reap() == nil && !deadline.passed { usleep(2000) }
        terminate()
        close(fromChild)
    }

    /// Scores `count` genomes of `parameterCount` floats each, returning one fitness per genome.
    ///
    /// - Throws: `ExternalEvaluatorError` when the child exits, misses the deadline, or replies
    ///   with a count other than `count`; also for any call after such a failure.
    public func evaluate(
        genomes: UnsafeBufferPointer<Float>, count: Int, generation: Int, seed: UInt64,
        fitness: UnsafeMutableBufferPointer<Float>
    ) throws {
        precondition(genomes.count >= count * parameterCount && fitness.count >= count, "buffers too small")
        if let failed { throw failed }
        guard count > 0 else { return }
        let during = "scoring a batch of \(count) genomes (generation \(generation))"
        let deadline = Deadline(seconds: timeout)
        try exchange(during: during) {
            try ExternalProtocol.batchPrefix(count: count, generation: generation, seed: seed).withUnsafeBytes {
                try send($0, deadline: deadline, during: during)
            }
            try send(
                UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(genomes)[0..<count * parameterCount * 4]),
                deadline: deadline, during: during)
            var replyCount: UInt32 = 0
            try withUnsafeMutableBytes(of: &replyCount) { try receive($0, deadline: deadline, during: during) }
            let received = Int(UInt32(littleEndian: replyCount))
            guard received == count else {
                terminate()
                throw ExternalEvaluatorError.wrongCount(command: commandText, expected: count, received: received)
            }
            try receive(
                UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(fitness)[0..<count * 4]),
                deadline: deadline, during: during)
            for i in 0..<count { fitness[i] = Float(bitPattern: UInt32(littleEndian: fitness[i].bitPattern)) }
        }
    }

    /// Runs `body`; on failure remembers the error so later calls fail fast.
    private func exchange(during: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExternalEvaluatorError {
            failed = error
            throw error
        }
    }

    private func send(_ bytes: UnsafeRawBufferPointer, deadline: Deadline, during: String) throws {
        var offset = 0
        while offset < bytes.count {
            try waitUntilReady(toChild, events: Int16(POLLOUT), deadline: deadline, during: during)
            let n = write(toChild, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                continue
            } else if n < 0 && errno == EPIPE {
                throw childExited(during: during)
            } else {
                throw ExternalEvaluatorError.ioError(
                    command: commandText, reason: "write failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func receive(_ bytes: UnsafeMutableRawBufferPointer, deadline: Deadline, during: String) throws {
        var offset = 0
        while offset < bytes.count {
            try waitUntilReady(fromChild, events: Int16(POLLIN), deadline: deadline, during: during)
            let n = read(fromChild, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n == 0 {
                throw childExited(during: during)
            } else if errno != EAGAIN && errno != EINTR {
                throw ExternalEvaluatorError.ioError(
                    command: commandText, reason: "read failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Polls `fd` for `events` until the deadline; a hang-up counts as ready (the read or write
    /// that follows reports it), and so does the child's exit.
    private func waitUntilReady(_ fd: Int32, events: Int16, deadline: Deadline, during: String) throws {
        while true {
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 {
                terminate()
                throw ExternalEvaluatorError.timedOut(command: commandText, seconds: timeout, during: during)
            }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, Int(Self.pollSlice))))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw ExternalEvaluatorError.ioError(
                    command: commandText, reason: "poll failed: \(String(cString: strerror(errno)))")
            }
            // Nothing to read or write yet: the child may have exited while a process it forked
            // keeps the pipe open, so EOF would never come.
            if ready == 0, reap() != nil { throw childExited(during: during) }
        }
    }

    /// The error for a child that exited or closed its stdout or stdin: waits briefly for its exit
    /// status. Its process group is killed either way.
    private func childExited(during: String) -> ExternalEvaluatorError {
        let deadline = Deadline(seconds: 2)
        while reap() == nil && !deadline.passed { usleep(2000) }
        guard let status = exitStatus else {
            terminate()
            return ExternalEvaluatorError.ioError(command: commandText, reason: "closed its stdout while \(during)")
        }
        terminate()
        return ExternalEvaluatorError.exited(command: commandText, status: status, during: during)
    }

    /// The child's exit status if it has exited (reaping it), `nil` while it runs. Never blocks.
    @discardableResult
    private func reap() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        // <sys/wait.h>: the low 7 bits are the terminating signal (0: a normal exit, whose code is
        // the next 8 bits).
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : -signal
        return exitStatus
    }

    /// Kills the child's process group (the child and whatever it forked) and reaps the child,
    /// waiting at most 2 s for it.
    private func terminate() {
        kill(-pid, SIGKILL)
        let deadline = Deadline(seconds: 2)
        while reap() == nil && !deadline.passed { usleep(1000) }
    }
}

/// A point in time on the monotonic clock.
struct Deadline {
    let end: UInt64

    /// `seconds` from now; past about 584 years (UInt64 nanoseconds) it saturates instead of trapping.
    init(seconds: Double) {
        let now = DispatchTime.now().uptimeNanoseconds
        let nanoseconds = seconds * 1e9
        end = nanoseconds < Double(UInt64.max - now) ? now + UInt64(max(0, nanoseconds)) : UInt64.max
    }

    var passed: Bool { DispatchTime.now().uptimeNanoseconds >= end }

    var remainingMilliseconds: Int {
        let now = DispatchTime.now().uptimeNanoseconds
        return now >= end ? 0 : Int((end - now + 999_999) / 1_000_000)
    }
}
