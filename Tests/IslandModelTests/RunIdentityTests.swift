import Collectives
import Foundation
import Testing

@testable import IslandModel

/// Island files carry their run's identity: a file from another run or island is named as such
/// and the resume falls back to the previous checkpoint.
@Suite("Run identity in island files")
struct RunIdentityTests {
    @Test("the identity trailer round-trips and a file without one passes through")
    func roundTrip() {
        let identity = RunIdentity(seed: 3, settingsHash: 0xDEAD_BEEF_0123_4567, island: 2)
        let payload = Data([1, 2, 3, 4, 5])
        let split = RunIdentity.split(identity.appended(to: payload))
        #expect(split.payload == payload && split.identity == identity)
        #expect(RunIdentity.split(payload).identity == nil && RunIdentity.split(payload).payload == payload)
    }

    /// Runs `tiny` (6 generations, checkpoints at 4 and 6), damages the newest checkpoint with
    /// `damage`, resumes it after deleting its results, and returns the warnings; the resumed run
    /// must end as the reference did.
    func resumeAfter(_ damage: (URL) throws -> Void) throws -> [String] {
        let config = try RunConfig.parse(RunTests.tiny)
        let reference = RunTests.folder()
        let damaged = RunTests.folder()
        defer { for d in [reference, damaged] { try? FileManager.default.removeItem(at: d) } }
        try RunTests.run(config, ranks: 1, in: reference)
        try RunTests.run(config, ranks: 2, in: damaged)
        try damage(damaged.appendingPathComponent("checkpoints/00000006"))
        for name in ["best.safetensors", "summary.json"] {
            try FileManager.default.removeItem(at: damaged.appendingPathComponent(name))
        }
        let warnings = Warnings()
        var options = RunTests.quiet()
        options.warn = { warnings.add($0) }
        try RunTests.resume(damaged, ranks: 2, options: options)
        #expect(try RunTests.bytes(damaged, "best.safetensors") == RunTests.bytes(reference, "best.safetensors"))
        #expect(try RunTests.bytes(damaged, "metrics.jsonl") == RunTests.bytes(reference, "metrics.jsonl"))
        return warnings.all
    }

    @Test("two island files swapped: the checkpoint is skipped naming the file and the island it holds")
    func swapped() throws {
        let warnings = try resumeAfter { folder in
            let one = folder.appendingPathComponent("island-00001.bin")
            let two = folder.appendingPathComponent("island-00002.bin")
            let a = try Data(contentsOf: one)
            let b = try Data(contentsOf: two)
            try b.write(to: one)
            try a.write(to: two)
        }
        #expect(warnings.count == 1)
        #expect(
            warnings.first?.contains(
                "00000006: island-00001.bin holds island 2 of this run, not island 1 (swapped or renamed)") == true,
            "\(warnings)")
    }

    @Test("an island file from another run (another seed): the checkpoint is skipped naming both identities")
    func foreign() throws {
        let other = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: other) }
        try RunTests.run(
            try RunConfig.parse(RunTests.tiny.replacingOccurrences(of: "seed: 3", with: "seed: 4")), ranks: 1, in: other
        )
        let warnings = try resumeAfter { folder in
            try FileManager.default.removeItem(at: folder.appendingPathComponent("island-00003.bin"))
            try FileManager.default.copyItem(
                at: other.appendingPathComponent("checkpoints/00000006/island-00003.bin"),
                to: folder.appendingPathComponent("island-00003.bin"))
        }
        #expect(warnings.count == 1)
        let warning = warnings.first ?? ""
        #expect(warning.contains("island-00003.bin belongs to another run (seed 4, settings "), "\(warning)")
        #expect(warning.contains("this checkpoint's run.json is seed 3, settings "), "\(warning)")
    }
}
