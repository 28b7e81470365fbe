/// What went wrong in a collective or point-to-point exchange.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned `code`; `message` is `MPI_Error_string(code)`.
    case mpi(function: String, code: Int32, message: String)
    /// Ranks entered different collectives, or the same one with different arguments.
    case mismatch(String)
    /// A rank waited longer than the communicator's timeout for its peers.
    case timeout(String)
    /// An argument is out of range (a rank, a count).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .mpi(let function, let code, let message): "\(function) failed with MPI error \(code): \(message)"
        case .mismatch(let text): "mismatched collective: \(text)"
        case .timeout(let text): "collective timed out: \(text)"
        case .invalidArgument(let text): "invalid argument: \(text)"
        }
    }
}
