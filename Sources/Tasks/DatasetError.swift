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
            "\(path):\(line): column \(column) (\(name)): expected a number, found \"\(text)\""
        case .unterminatedQuote(let path, let line):
            "\(path):\(line): a quoted field is not closed before the end of the file"
        case .unknownColumn(let path, let column, let available):
            "\(path): no column \"\(column)\" (columns: \(available.joined(separator: ", ")))"
        case .tooFewClasses(let path, let column, let found):
            "\(path): target column \"\(column)\" has \(found) distinct value(s); classification needs at least 2"
        }
    }
}
