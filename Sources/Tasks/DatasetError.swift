/// Why a dataset could not be read: each case names the file, and where it applies the line
/// (1-based, counting the header) and the column (1-based, with its header name).
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String, searched: [String])
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case wrongFieldCount(path: String, line: Int, expected: Int, found: Int)
    case notANumber(path: String, line: Int, column: Int, columnName: String, text: String)
    case unterminatedQuote(path: String, line: Int)
    case unknownColumn(path: String, column: String, available: [String])
    case tooFewClasses(path: String, column: String, found: Int)
    /// A number that overflows a 32-bit float (|x| > 3.4028235e38), which the network computes in.
    case outOfFloatRange(path: String, line: Int, column: Int, columnName: String, text: String)
    /// A classification row whose label is empty.
    case emptyLabel(path: String, line: Int, column: Int, columnName: String)
    /// A path that exists but is no regular file (a folder, FIFO, socket or device).
    case notARegularFile(path: String, kind: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path, let searched):
            "\(path): no such data file (looked in: \(searched.joined(separator: ", ")))"
        case .unreadable(let path, let reason):
            "\(path): cannot read: \(reason)"
        case .empty(let path):
            "\(path): no data rows"
        case .wrongFieldCount(let path, let line, let expected, let found):
            "\(path):\(line): expected \(expected) comma-separated fields, found \(found)"
        case .notANumber(let path, let line, let column, let name, let text):
            "\(path):\(line): column \(column) (\(name)): expected a number, found \(Self.quoted(text))"
        case .unterminatedQuote(let path, let line):
            "\(path):\(line): a quoted field is not closed before the end of the file"
        case .unknownColumn(let path, let column, let available):
            "\(path): no column \"\(column)\" (columns: \(available.joined(separator: ", ")))"
        case .tooFewClasses(let path, let column, let found):
            "\(path): target column \"\(column)\" has \(found) distinct value(s); classification needs at least 2"
        case .outOfFloatRange(let path, let line, let column, let name, let text):
            "\(path):\(line): column \(column) (\(name)): \(Self.quoted(text)) is beyond ±3.4028235e38, the range of a 32-bit float"
        case .emptyLabel(let path, let line, let column, let name):
            "\(path):\(line): column \(column) (\(name)): the class label is empty"
        case .notARegularFile(let path, let kind):
            "\(path): is \(kind), not a CSV file"
        }
    }

    /// Longest field text quoted in a message, in characters.
    public static let quotedLimit = 60

    /// `text` in double quotes, cut to its first `quotedLimit` characters with the total length
    /// when longer (a 100 MB field must not become a 100 MB message).
    public static func quoted(_ text: String) -> String {
        guard let cut = text.index(text.startIndex, offsetBy: quotedLimit, limitedBy: text.endIndex),
            cut != text.endIndex
        else {
            return "\"\(text)\""
        }
        return "\"\(text[..<cut])…\" (\(text.utf8.count) bytes)"
    }
}
