/// A run stopped by SIGINT, SIGTERM, SIGUSR1 or SIGHUP after a checkpoint (every rank throws it together).
public struct RunInterrupted: Error, CustomStringConvertible {
    /// The signal's number.
    public let signal: Int32

    public var description: String { "stopped by \(InterruptSignal.name(signal))" }
}
