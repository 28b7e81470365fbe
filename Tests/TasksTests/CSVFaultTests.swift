import Foundation
import Testing

@testable import Tasks

/// CSV inputs that used to be slow, vague or silently wrong.
@Suite("CSV faults")
struct CSVFaultTests {
    @Test("a 20 MB field is refused at once, its message quoting 60 characters and the length")
    func hugeField() throws {
        let field = String(repeating: "7", count: 20_000_000)
        let table = try CSVTable(text: "a,b,label\n1,2,0\n3,\(field),1\n", path: "big.csv", hasHeader: true)
        let start = Date()
        var message = ""
        do {
            _ = try CSVDataset.make(from: table, target: nil, kind: .classification)
        } catch {
            message = "\(error)"
        }
        #expect(Date().timeIntervalSince(start) < 5, "not parsed as a number")
        #expect(
            message
                == "big.csv:3: column 2 (b): expected a number, found \"\(String(repeating: "7", count: 60))…\" (20000000 bytes)"
        )
    }

    @Test("a value beyond Float's range is an error naming file, line and column", arguments: ["1e39", "-3.5e38"])
    func floatOverflow(value: String) throws {
        let table = try CSVTable(text: "x,y,label\n1,2,0\n3,\(value),1\n", path: "t.csv", hasHeader: true)
        #expect(throws: DatasetError.outOfFloatRange(path: "t.csv", line: 3, column: 2, columnName: "y", text: value)) {
            try CSVDataset.make(from: table, target: nil, kind: .classification)
        }
        #expect(throws: DatasetError.outOfFloatRange(path: "t.csv", line: 3, column: 2, columnName: "y", text: value)) {
            try CSVDataset.make(from: table, target: "x", kind: .regression)
        }
        let largest = try CSVTable(text: "x,label\n3.4028234e38,a\n1,b\n", path: "t.csv", hasHeader: true)
        #expect(try CSVDataset.make(from: largest, target: nil, kind: .classification).features[0] == 3.4028234e38)
    }

    @Test("numeric class labels 1 and 1.0 are one class; an empty label is an error naming the line")
    func labels() throws {
        let table = try CSVTable(text: "x,label\n1,1\n2,1.0\n3,2\n4,1e0\n", path: "t.csv", hasHeader: true)
        let data = try CSVDataset.make(from: table, target: nil, kind: .classification)
        #expect(data.targets == .classes([0, 0, 1, 0], names: ["1", "2"]))
        let empty = try CSVTable(text: "x,label\n1,a\n2, \n3,b\n", path: "t.csv", hasHeader: true)
        #expect(throws: DatasetError.emptyLabel(path: "t.csv", line: 3, column: 2, columnName: "label")) {
            try CSVDataset.make(from: empty, target: nil, kind: .classification)
        }
    }

    @Test("a directory or FIFO given as the CSV file is named as such, without blocking")
    func notARegularFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: DatasetError.notARegularFile(path: folder.path, kind: "a directory")) {
            try CSVTable(contentsOf: folder.path, hasHeader: true)
        }
        let fifo = folder.appendingPathComponent("data.csv").path
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(throws: DatasetError.notARegularFile(path: fifo, kind: "a FIFO (named pipe)")) {
            try CSVTable(contentsOf: fifo, hasHeader: true)
        }
        #expect(
            "\(DatasetError.notARegularFile(path: fifo, kind: "a FIFO (named pipe)"))"
                == "\(fifo): is a FIFO (named pipe), not a CSV file")
        #expect(throws: DatasetError.fileNotFound(path: fifo + "x", searched: [fifo + "x"])) {
            try CSVTable(contentsOf: fifo + "x", hasHeader: true)
        }
    }
}
