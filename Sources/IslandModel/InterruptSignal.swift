import Foundation
import Synchronization

/// The signal that asked this process to stop (0: none yet), set by `InterruptSignal`'s handler.
private let pendingSignal = Atomic<Int32>(0)
/// Whether the handler announces the first signal on standard error (rank 0 only).
private let announces = Atomic<Bool>(false)

/// SIGINT, SIGTERM and SIGUSR1 as a request to stop at the end of the current generation.
///
/// The first signal is only recorded; `Run` reads it after each generation, shares it with every
/// rank through the generation's allgather, so all ranks stop after the same generation, write a
/// checkpoint and exit with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 138 for
/// SIGUSR1). The same
/// signal a second time restores the default action and re-raises it: the process ends at once.
/// (Only the same one: Ctrl-C under `mpirun` can bring a rank the terminal's SIGINT and then
/// mpirun's SIGTERM for one key press.)
///
/// Under `mpirun` (Open MPI 4), a SIGINT or SIGTERM to `mpirun` reaches the ranks as SIGTERM
/// `odls_base_sigkill_timeout` seconds later, and SIGKILL as many seconds after that
/// (`deploy/env/openmpi.env` sets 3): a generation and its checkpoint must fit in that time.
/// `mpirun` forwards SIGUSR1 to every rank at once, so `kill -USR1` to it stops the run without
/// the wait.
public enum InterruptSignal {
    /// Installs the handler for SIGINT, SIGTERM and SIGUSR1 in this process.
    ///
    /// - Parameter announce: write one line on standard error when the first signal arrives.
    public static func install(announce: Bool) {
        announces.store(announce, ordering: .relaxed)
        for number in [SIGINT, SIGTERM, SIGUSR1] {
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

    /// The signal's conventional name (`SIGINT`, `SIGTERM`, `SIGUSR1`, else `signal N`).
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1"
        default: "signal \(number)"
        }
    }
}

/// The handler: async-signal-safe (atomics, `write`, `signal`, `raise`).
private func handle(_ number: Int32) {
    let (first, earlier) = pendingSignal.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
    if !first {
        if earlier == number {
            signal(number, SIG_DFL)
            raise(number)
        }
        return
    }
    guard announces.load(ordering: .relaxed) else { return }
    let text: StaticString = "\natoll: stopping at the end of this generation to write a checkpoint (signal again to stop at once)\n"
    _ = write(STDERR_FILENO, text.utf8Start, text.utf8CodeUnitCount)
}
