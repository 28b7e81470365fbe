import Collectives
import Foundation
import Testing

@testable import IslandModel

/// The progress line names the space the islands search: `weights`, `codes` (EGGROLL),
/// `anchored` (the anchored latent) or `latent` (the absolute latent's phase), generation by
/// generation.
@Suite("Progress line", .serialized)
struct ProgressLineTests {
    /// The space word of every progress line of a run of `yaml` on one rank, by generation, and
    /// the `phase` of `metrics.jsonl` by generation.
    static func spaces(_ yaml: String) throws -> (words: [Int: String], phases: [Int: String]) {
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = Lines()
        var options = RunTests.quiet()
        options.interactive = true  // a line for every generation
        options.output = { lines.append($0) }
        try RunTests.run(try RunConfig.parse(yaml), ranks: 1, in: directory, options: options)
        var words: [Int: String] = [:]
        for line in lines.all {
            // "\r\e[Kgen 3/6  anchored  best …"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let g = fields.firstIndex(where: { $0.hasSuffix("gen") }), g + 2 < fields.count,
                let generation = Int(fields[g + 1].split(separator: "/")[0])
            else { continue }
            words[generation] = String(fields[g + 2])
        }
        var phases: [Int: String] = [:]
        let metrics = try String(decoding: RunTests.bytes(directory, "metrics.jsonl"), as: UTF8.self)
        for line in metrics.split(separator: "\n") {
            let record = try JSONDecoder().decode(IslandMetrics.self, from: Data(line.utf8))
            phases[record.generation] = record.phase
        }
        return (words, phases)
    }

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    @Test("weight space, EGGROLL's codes and the anchored latent each name their space on every line")
    func namesTheDesign() throws {
        func with(_ evolution: String) -> String {
            RunTests.tiny.replacingOccurrences(of: "evolution: {mutation_rate: 0.1}", with: evolution)
        }
        let cases = [
            (RunTests.tiny, "weights"),
            (with("evolution: {algorithm: eggroll, sigma0: 0.1, rank: 2, tile: 3}"), "codes"),
            (
                with(
                    "evolution: {algorithm: snes, sigma0: 0.1}\nlatent: {enabled: true, mode: anchored, anchored: {dimension: 2}}"
                ), "anchored"
            ),
        ]
        for (yaml, space) in cases {
            let (words, phases) = try Self.spaces(yaml)
            #expect(Array(words.keys).sorted() == Array(1...6), "\(space): a line per generation")
            #expect(Set(words.values) == [space])
            #expect(Set(phases.values) == ["weights"], "metrics.jsonl keeps its phase: weights")
        }
    }

    @Test("the absolute latent: the line names the phase metrics.jsonl logs for the same generation")
    func absoluteLatentFollowsThePhase() throws {
        let (words, phases) = try Self.spaces(RunTests.tinyLatent)
        #expect(words.values.contains("latent"), "the tiny latent run enters the latent phase")
        for (generation, word) in words {
            // Both are written after the generation's training round, in the phase it decided.
            #expect(word == phases[generation], "generation \(generation)")
        }
    }
}
