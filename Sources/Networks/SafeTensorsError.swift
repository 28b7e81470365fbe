/// A safetensors file that cannot be read or written; the message says what is wrong and names
/// the tensor, `file` the path when there is one.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The file cannot be opened, read or written.
        case io
        /// The 8-byte header length is missing, too large or runs past the end of the file.
        case headerLength
        /// The header is not a JSON object.
        case invalidJSON
        /// The JSON lacks a field or has one of the wrong type.
        case invalidHeader
        /// A dtype other than F32, F64, F16 and BF16.
        case unsupportedDType
        /// Offsets that overlap, leave gaps, or leave the data section.
        case invalidOffsets
        /// A dtype and shape whose byte count differs from the offsets' span.
        case sizeMismatch
        /// Tensor names or shapes that differ from a network spec's parameter layout.
        case layoutMismatch
    }

    public let kind: Kind
    public let message: String
    public var file: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
    }

    public var description: String {
        "safetensors\(file.map { " file '\($0)'" } ?? ""): \(message)"
    }
}
