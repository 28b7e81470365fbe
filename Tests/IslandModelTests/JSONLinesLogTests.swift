import Foundation
import IslandModel
import Testing

@Suite("JSONLinesLog")
struct JSONLinesLogTests {
    struct Record: Codable, Equatable {
        var island: Int
        var best: Float
        var phase: String
    }

    @Test("appends sorted-key lines, reopens at the end, truncates back to a recorded length")
    func appendReopenTruncate() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-log-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        var log: JSONLinesLog? = try JSONLinesLog(url: url)
        try log!.append(Record(island: 0, best: 0.5, phase: "warmup"))
        let mark = try log!.byteCount
        try log!.append(Record(island: 1, best: -1.25, phase: "latent"))
        log = nil

        let reopened = try JSONLinesLog(url: url)
        #expect(try reopened.byteCount > mark)
        try reopened.truncate(toByteCount: mark)
        try reopened.append(Record(island: 1, best: 2, phase: "latent"))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines == [#"{"best":0.5,"island":0,"phase":"warmup"}"#, #"{"best":2,"island":1,"phase":"latent"}"#])
        let decoded = try lines.map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
        #expect(decoded[1] == Record(island: 1, best: 2, phase: "latent"))
    }
}
