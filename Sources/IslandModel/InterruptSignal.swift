import Foundation
import Synchronization

/// The signal that asked this process to stop (0: none yet), set by `InterruptSignal`'s handler.
private let pendingSignal = Atomic<Int32>(0)
/// When the first signal arrived (`CLOCK_MONOTONIC`, nanoseconds; 0: not yet).
private let firstArrival = Atomic<Int64>(0)
/// Whether the handler announces the first signal on standard error (rank 0 only).
private let announces = Atomic<Bool>(false)

/// SIGINT, SIGTERM, SIGUSR1 and SIGHUP as a request to stop at the end of the current generation.
///
/// The first signal is only recorded; `Run` reads it after each generation, shares it with every
/// rank through the generation's allgather, so all ranks stop after the same generation, write a
/// checkpoint and exit with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 138 for
/// SIGUSR1, 129 for SIGHUP: an ssh session or terminal closing).
///
/// One request can arrive more than once: at a job's time limit (and on `scancel --full`) Slurm
/// signals each task directly and through `srun`, so a rank gets the same SIGTERM twice within a
/// few milliseconds. The same signal again within `repeatWindow` (1 s) of the first is therefore
/// the same request. The same signal again *later* — a second Ctrl-C after a pause — restores the
/// default action and re-raises it: the process ends at once, without the checkpoint. A different
/// signal is always ignored (Ctrl-C under `mpirun` brings a rank the terminal's SIGINT and then
/// mpirun's SIGTERM for one key press).
///
/// SIGPIPE is ignored: output to a closed pipe (`atoll run … | head -1`) fails as a write error
/// the command handles instead of killing the run silently.
///
/// Under `mpirun` (Open MPI 4), a SIGINT or SIGTERM to `mpirun` reaches the ranks as SIGTERM
/// `odls_base_sigkill_timeout` seconds later, and SIGKILL as many seconds after that
/// (`deploy/env/openmpi.env` sets 3): a generation and its checkpoint must fit in that time.
/// `mpirun` forwards SIGUSR1 to every rank at once, so `kill -USR1` to it stops the run without
/// the wait.
public enum InterruptSignal {
    /// A repeat of the first signal sooner than this (nanoseconds) is the same request.
    public static let repeatWindow: Int64 = 1_000_000_000

    /// The signals that ask for a stop.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGUSR1, SIGHUP]

    /// Installs the handler for SIGINT, SIGTERM, SIGUSR1 and SIGHUP in this process, and ignores
    /// SIGPIPE.
    ///
    /// - Parameter announce: write one line on standard error when the first signal arrives.
    public static func install(announce: Bool) {
        announces.store(announce, ordering: .relaxed)
        signal(SIGPIPE, SIG_IGN)
        for number in stopSignals {
            var action = sigaction()
            #if os(Linux)
                action.__sigaction_handler.sa_handler = handle
            #else
                action.__sigaction_u.__sa_handler = handle
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    /// The signal received so far, if any.
    public static var pending: Int32? {
        let number = pendingSignal.load(ordering: .acquiring)
        return number == 0 ? nil : number
    }

    /// The signal's conventional name (`SIGINT`, `SIGTERM`, `SIGUSR1`, `SIGHUP`, else `signal N`).
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1"
        case SIGHUP: "SIGHUP"
        default: "signal \(number)"
        }
    }

    /// Whether a repeat of the first signal ends the process at once: only when it comes at
    /// least `repeatWindow` after the first (`first == 0`: the first's time is not stored yet,
    /// so the repeat is simultaneous).
    static func endsAtOnce(first: Int64, now: Int64) -> Bool {
        first != 0 && now - first >= repeatWindow
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds (`clock_gettime` is async-signal-safe).
private func monotonicNanoseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
}

/// The handler: async-signal-safe (atomics, `clock_gettime`, `write`, `signal`, `raise`).
private func handle(_ number: Int32) {
    let now = monotonicNanoseconds()
    let (first, earlier) = pendingSignal.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
    if !first {
        if earlier == number && InterruptSignal.endsAtOnce(first: firstArrival.load(ordering: .acquiring), now: now) {
            signal(number, SIG_DFL)
            raise(number)
        }
        return
    }
    firstArrival.store(now, ordering: .releasing)
    guard announces.load(ordering: .relaxed) else { return }
    let text: StaticString =
        "\natoll: stopping at the end of this generation to write a checkpoint (the same signal again after 1 s stops at once)\n"
    _ = write(STDERR_FILENO, text.utf8Start, text.utf8CodeUnitCount)
}
