import Foundation
import Networks

/// A CSV file split into fields (RFC 4180): comma-separated, fields may be double-quoted, a quote
/// inside a quoted field is written `""`, and a quoted field may span lines. `\r\n` and `\n` both
/// end a record; blank lines are skipped. Every row remembers the line it starts on, so later
/// errors can name it.
public struct CSVTable: Sendable {
    /// Column names: the header row, or `column1 …` when the file has none.
    public let header: [String]
    /// The data rows, each with exactly `header.count` fields.
    public let rows: [[String]]
    /// The 1-based line in the file on which each row starts.
    public let lines: [Int]
    /// The file's path, for error messages.
    public let path: String

    /// Parses `text`.
    ///
    /// - Parameters:
    ///   - path: the file's name, used in error messages.
    ///   - hasHeader: whether the first record holds the column names.
    /// - Throws: `DatasetError.wrongFieldCount` for a row with a different number of fields than the
    ///   first, `.unterminatedQuote`, or `.empty` when there is no data row.
    public init(text: String, path: String, hasHeader: Bool) throws {
        let records = try Self.records(Array(text.utf8), path: path)
        guard let first = records.first else { throw DatasetError.empty(path: path) }
        let width = first.fields.count
        for record in records where record.fields.count != width {
            throw DatasetError.wrongFieldCount(
                path: path, line: record.line, expected: width, found: record.fields.count)
        }
        let data = hasHeader ? records.dropFirst() : records[...]
        guard !data.isEmpty else { throw DatasetError.empty(path: path) }
        self.header =
            hasHeader ? first.fields.map { $0.trimmingCharacters(in: .whitespaces) } : (1...width).map { "column\($0)" }
        self.rows = data.map(\.fields)
        self.lines = data.map(\.line)
        self.path = path
    }

    /// Reads and parses the file at `path`; a name ending in `.gz` is decompressed first.
    ///
    /// - Throws: `DatasetError.fileNotFound`, `.notARegularFile` for a folder, FIFO, socket or
    ///   device (reading a FIFO would block), `.unreadable` with the system's reason.
    public init(contentsOf path: String, hasHeader: Bool) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw DatasetError.fileNotFound(path: path, searched: [path]) }
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)).lowercased())
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw DatasetError.notARegularFile(path: path, kind: "a directory")
        case S_IFIFO: throw DatasetError.notARegularFile(path: path, kind: "a FIFO (named pipe)")
        case S_IFSOCK: throw DatasetError.notARegularFile(path: path, kind: "a socket")
        default: throw DatasetError.notARegularFile(path: path, kind: "a device")
        }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DatasetError.unreadable(path: path, reason: FileErrorReason.of(error))
        }
        try self.init(contents: bytes, path: path, hasHeader: hasHeader)
    }

    /// Parses the contents of a CSV file, plain or gzipped (`path` only names it in errors).
    public init(contents bytes: Data, path: String, hasHeader: Bool) throws {
        let raw: Data
        do {
            raw = Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes) : bytes
        } catch {
            throw DatasetError.unreadable(path: path, reason: "\(error)")
        }
        guard let text = String(data: raw, encoding: .utf8) else {
            throw DatasetError.unreadable(path: path, reason: "not UTF-8 text")
        }
        try self.init(text: text, path: path, hasHeader: hasHeader)
    }

    /// The index of the column called `name`, or of the 1-based column number `name` spells.
    public func columnIndex(_ name: String) throws -> Int {
        if let i = header.firstIndex(of: name) { return i }
        if let number = Int(name), number >= 1, number <= header.count { return number - 1 }
        throw DatasetError.unknownColumn(path: path, column: name, available: header)
    }

    /// Longest field read as a number, in bytes: longer text is no number anyone wrote.
    public static let maxNumberLength = 400

    /// The field at (`row`, `column`) as a number within a 32-bit float's range, or an error
    /// naming its line and column.
    public func number(row: Int, column: Int) throws -> Double {
        let field = rows[row][column]
        guard field.utf8.count <= Self.maxNumberLength else {
            // The field itself (no copy); the message quotes its first characters only.
            throw DatasetError.notANumber(
                path: path, line: lines[row], column: column + 1, columnName: header[column], text: field)
        }
        let text = field.trimmingCharacters(in: .whitespaces)
        guard let value = Double(text), value.isFinite else {
            throw DatasetError.notANumber(
                path: path, line: lines[row], column: column + 1, columnName: header[column], text: text)
        }
        guard abs(value) <= Double(Float.greatestFiniteMagnitude) else {
            throw DatasetError.outOfFloatRange(
                path: path, line: lines[row], column: column + 1, columnName: header[column], text: text)
        }
        return value
    }

    private struct Record {
        var fields: [String]
        var line: Int
    }

    /// Splits UTF-8 bytes into records of fields, tracking line numbers.
    private static func records(_ bytes: [UInt8], path: String) throws -> [Record] {
        let quote = UInt8(ascii: "\"")
        let comma = UInt8(ascii: ",")
        let newline = UInt8(ascii: "\n")
        let carriage = UInt8(ascii: "\r")
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var quotedFieldLine = 1
        var recordHasContent = false
        var i = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endField()
            if recordHasContent { records.append(Record(fields: fields, line: recordLine)) }
            fields.removeAll(keepingCapacity: true)
            recordHasContent = false
        }
        while i < bytes.count {
            let byte = bytes[i]
            if inQuotes {
                if byte == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote {
                        field.append(quote)
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == newline { line += 1 }
                    field.append(byte)
                }
            } else if byte == quote {
                inQuotes = true
                quotedFieldLine = line
                recordHasContent = true
            } else if byte == comma {
                endField()
                recordHasContent = true
            } else if byte == newline || byte == carriage {
                if byte == carriage && i + 1 < bytes.count && bytes[i + 1] == newline { i += 1 }
                endRecord()
                line += 1
                recordLine = line
            } else {
                if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") { recordHasContent = true }
                field.append(byte)
            }
            i += 1
        }
        if inQuotes { throw DatasetError.unterminatedQuote(path: path, line: quotedFieldLine) }
        endRecord()
        return records
    }
}
