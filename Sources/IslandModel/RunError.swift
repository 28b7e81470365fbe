/// A run that cannot go on, with the reason.
public struct RunError: Error, CustomStringConvertible {
    public let description: String
    /// Every rank has this error (it came through `agree`), so every rank can stop on its own
    /// without leaving another waiting.
    public let sharedByAllRanks: Bool

    public init(_ description: String, sharedByAllRanks: Bool = false) {
        self.description = description
        self.sharedByAllRanks = sharedByAllRanks
    }
}
