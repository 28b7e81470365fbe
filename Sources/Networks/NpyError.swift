/// A `.npy` file that is not a one-dimensional float array.
public struct NpyError: Error, CustomStringConvertible, Equatable {
    public var file: String?
    public let message: String

    public init(file: String? = nil, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { ".npy file\(file.map { " '\($0)'" } ?? ""): \(message)" }
}
