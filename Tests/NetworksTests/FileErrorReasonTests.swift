import Foundation
import Networks
import Testing

/// Foundation's file errors become one line naming the path and the POSIX reason.
@Suite("File error reasons")
struct FileErrorReasonTests {
    @Test("a write under /proc and a read of a directory: the path and the reason in one line")
    func oneLine() throws {
        let path = "/proc/atoll-\(UUID().uuidString)/file"
        let write = try #require(throws: (any Error).self) { try Data([1]).write(to: URL(fileURLWithPath: path)) }
        #expect("\(write)".contains("NSCocoaErrorDomain"), "Foundation's own text, which the reason replaces")
        #expect("\(FileErrorReason.readable(write))" == "\(path): no such file or directory")
        let directory = FileManager.default.temporaryDirectory.path
        let read = try #require(throws: (any Error).self) { try String(contentsOfFile: directory, encoding: .utf8) }
        #expect(FileErrorReason.of(read) == "is a directory")
    }

    @Test("an error that is no file error stays as it is")
    func otherErrors() {
        struct Other: Error, CustomStringConvertible { var description: String { "other" } }
        #expect("\(FileErrorReason.readable(Other()))" == "other")
    }
}
