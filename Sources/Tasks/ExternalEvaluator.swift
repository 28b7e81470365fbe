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
public final class ExternalEvaluator {
    /// The command line (program and arguments), as given.
    public let command: [String]
    /// Seconds allowed for the handshake and for each batch.
    public let timeout: Double
    /// Genome length announced in the header.
    public let parameterCount: Int

    private let process: Process
    private let toChild: Int32
    private let fromChild: Int32
    private var failed: ExternalEvaluatorError?
    private var commandText: String { command.joined(separator: " ") }

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
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        do {
            try process.run()
        } catch {
            throw ExternalEvaluatorError.launchFailed(command: command.joined(separator: " "), reason: "\(error)")
        }
        toChild = stdinPipe.fileHandleForWriting.fileDescriptor
        fromChild = stdoutPipe.fileHandleForReading.fileDescriptor
        // Keep our ends open for the life of this object; close the child's ends in this process.
        try? stdinPipe.fileHandleForReading.close()
        try? stdoutPipe.fileHandleForWriting.close()
        toChildHandle = stdinPipe.fileHandleForWriting
        fromChildHandle = stdoutPipe.fileHandleForReading
        _ = fcntl(toChild, F_SETFL, fcntl(toChild, F_GETFL) | O_NONBLOCK)

        let deadline = Deadline(seconds: timeout)
        try exchange(during: "reading the header") {
            try header.withUnsafeBytes { try send($0, deadline: deadline, during: "reading the header") }
        }
        var acknowledgement = [UInt8](repeating: 0, count: 12)
        try exchange(during: "acknowledging the header") {
            try acknowledgement.withUnsafeMutableBytes { try receive($0, deadline: deadline, during: "acknowledging the header") }
        }
        guard Array(acknowledgement[0 ..< 8]) == ExternalProtocol.magic,
            ExternalProtocol.readUInt32(acknowledgement, at: 8) == ExternalProtocol.version
        else {
            terminate()
            throw ExternalEvaluatorError.badAcknowledgement(command: commandText, received: acknowledgement)
        }
    }

    private let toChildHandle: FileHandle
    private let fromChildHandle: FileHandle

    deinit {
        try? toChildHandle.close()
        if process.isRunning {
            // Give a well-behaved child a moment to exit after EOF, then kill it.
            let deadline = Deadline(seconds: 1)
            while process.isRunning && !deadline.passed { usleep(2000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? fromChildHandle.close()
    }

    /// Scores `count` genomes of `parameterCount` floats each, returning one fitness per genome.
    ///
    /// - Throws: `ExternalEvaluatorError` when the child exits, misses the deadline, or replies
    ///   with a count other than `count`; also for any call after such a failure.
    public func evaluate(genomes: UnsafeBufferPointer<Float>, count: Int, generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>) throws {
        precondition(genomes.count >= count * parameterCount && fitness.count >= count, "buffers too small")
        if let failed { throw failed }
        guard count > 0 else { return }
        let during = "scoring a batch of \(count) genomes (generation \(generation))"
        let deadline = Deadline(seconds: timeout)
        try exchange(during: during) {
            try ExternalProtocol.batchPrefix(count: count, generation: generation, seed: seed).withUnsafeBytes {
                try send($0, deadline: deadline, during: during)
            }
            try send(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(genomes)[0 ..< count * parameterCount * 4]), deadline: deadline, during: during)
            var replyCount: UInt32 = 0
            try withUnsafeMutableBytes(of: &replyCount) { try receive($0, deadline: deadline, during: during) }
            let received = Int(UInt32(littleEndian: replyCount))
            guard received == count else {
                terminate()
                throw ExternalEvaluatorError.wrongCount(command: commandText, expected: count, received: received)
            }
            try receive(UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(fitness)[0 ..< count * 4]), deadline: deadline, during: during)
            for i in 0 ..< count { fitness[i] = Float(bitPattern: UInt32(littleEndian: fitness[i].bitPattern)) }
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
                throw ExternalEvaluatorError.ioError(command: commandText, reason: "write failed: \(String(cString: strerror(errno)))")
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
                throw ExternalEvaluatorError.ioError(command: commandText, reason: "read failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Polls `fd` for `events` until the deadline; a hang-up counts as ready (the read or write
    /// that follows reports it).
    private func waitUntilReady(_ fd: Int32, events: Int16, deadline: Deadline, during: String) throws {
        while true {
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 {
                terminate()
                throw ExternalEvaluatorError.timedOut(command: commandText, seconds: timeout, during: during)
            }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1000)))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw ExternalEvaluatorError.ioError(command: commandText, reason: "poll failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The error for a child that closed its stdout or stdin: waits briefly for its exit status.
    private func childExited(during: String) -> ExternalEvaluatorError {
        let deadline = Deadline(seconds: 2)
        while process.isRunning && !deadline.passed { usleep(2000) }
        if process.isRunning {
            terminate()
            return ExternalEvaluatorError.ioError(command: commandText, reason: "closed its stdout while \(during)")
        }
        let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        return ExternalEvaluatorError.exited(command: commandText, status: status, during: during)
    }

    private func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A point in time on the monotonic clock.
struct Deadline {
    let end: UInt64

    init(seconds: Double) {
        end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    }

    var passed: Bool { DispatchTime.now().uptimeNanoseconds >= end }

    var remainingMilliseconds: Int {
        let now = DispatchTime.now().uptimeNanoseconds
        return now >= end ? 0 : Int((end - now + 999_999) / 1_000_000)
    }
}
