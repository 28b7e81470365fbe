/// A network spec or parameter set that does not fit: the message says what and where.
public enum NetworkSpecError: Error, CustomStringConvertible, Equatable {
    /// The spec itself is malformed (unknown key, bad layer, shapes that do not chain).
    case invalid(String)
    /// Named tensors do not match the spec's parameter layout (missing, unexpected, wrong shape).
    case layoutMismatch(String)

    public var message: String {
        switch self {
        case .invalid(let message), .layoutMismatch(let message): return message
        }
    }

    public var description: String {
        switch self {
        case .invalid(let message): return "invalid network spec: \(message)"
        case .layoutMismatch(let message): return "parameters do not match the network spec: \(message)"
        }
    }
}
