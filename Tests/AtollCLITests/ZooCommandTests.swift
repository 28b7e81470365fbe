import Foundation
import Testing

/// `atoll zoo` end to end on a tiny zoo: files, index, metadata, and refusing to overwrite.
@Suite("atoll zoo")
struct ZooCommandTests {
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("atoll-zoo-cli-\(UUID().uuidString)").path
    }

    /// The `__metadata__` of a safetensors file: an 8-byte little-endian header length, then the JSON header.
    func metadata(of path: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(
            try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + length)) as? [String: Any])
        #expect(header["0.weight"] != nil && header["2.bias"] != nil, "PyTorch nn.Sequential tensor names")
        return try #require(header["__metadata__"] as? [String: String])
    }

    /// The index as `atoll zoo` documents it (decoded with JSONDecoder, which reads doubles exactly).
    struct Index: Decodable {
        struct Entry: Decodable {
            let file: String
            let network: String
            let seed: Int
            let step: Int
            let fitness: Double
            let train_accuracy: Double
            let test_accuracy: Double
        }

        let format: String
        let version: Int
        let task: String
        let entries: [Entry]
    }

    func index(in folder: String) throws -> Index {
        try JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/index.json")))
    }

    let tiny = [
        "zoo", "--task", "digits", "--network", "mlp:64-8-10", "--count", "2", "--steps", "30", "--save-at", "10,30",
        "--seed", "5",
    ]

    @Test("a tiny zoo: two networks saved at steps 10 and 30, indexed, with their metadata")
    func tinyZoo() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try AtollProcess.run(tiny + ["--out", folder])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("[2/2] mlp:64-8-10 seed 6"), "one progress line per network")

        let zoo = try index(in: folder)
        #expect(zoo.format == "atoll-zoo")
        #expect(zoo.version == 1)
        #expect(zoo.task == "digits")
        let entries = zoo.entries
        #expect(
            entries.map(\.file) == [
                "s0-net-000-step-00010.safetensors", "s0-net-000-step-00030.safetensors",
                "s0-net-001-step-00010.safetensors", "s0-net-001-step-00030.safetensors",
            ])
        #expect(entries.map(\.seed) == [5, 5, 6, 6])
        #expect(entries.map(\.step) == [10, 30, 10, 30])
        #expect(entries.allSatisfy { $0.network == "mlp:64-8-10" })
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == (entries.map(\.file) + ["index.json"]).sorted())

        for entry in entries {
            #expect(
                entry.fitness < 0 && (0...1).contains(entry.train_accuracy) && (0...1).contains(entry.test_accuracy))
            let meta = try metadata(of: folder + "/" + entry.file)
            #expect(meta["task"] == "digits")
            #expect(meta["network"] == "mlp:64-8-10")
            #expect(meta["step"] == "\(entry.step)")
            #expect(meta["seed"] == "\(entry.seed)")
            #expect(meta["fitness"].flatMap(Double.init) == entry.fitness)
            #expect(meta["train_accuracy"].flatMap(Double.init) == entry.train_accuracy)
            #expect(meta["test_accuracy"].flatMap(Double.init) == entry.test_accuracy)
        }
        // Training helps: each network's cross-entropy is lower at step 30 than at step 10.
        for network in 0..<2 {
            let early = entries[2 * network].fitness
            let late = entries[2 * network + 1].fitness
            #expect(late > early, "network \(network): fitness \(early) at step 10, \(late) at step 30")
        }
    }

    @Test("a non-empty --out is refused unless --force, which replaces the zoo")
    func refusesToOverwrite() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try AtollProcess.run(tiny + ["--out", folder])
        #expect(first.status == 0, "\(first.standardError)")
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/index.json"))

        let again = try AtollProcess.run(tiny + ["--out", folder])
        #expect(again.status == 64)
        #expect(
            again.standardError.contains("--out") && again.standardError.contains("--force"), "\(again.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/index.json")) == before)

        // An unfinished zoo (files, no index) is named as such.
        try FileManager.default.removeItem(atPath: folder + "/index.json")
        let unfinished = try AtollProcess.run(tiny + ["--out", folder])
        #expect(unfinished.status == 64)
        #expect(unfinished.standardError.contains("unfinished zoo"), "\(unfinished.standardError)")

        let forced = try AtollProcess.run(
            [
                "zoo", "--task", "digits", "--network", "mlp:64-8-10", "--count", "1", "--steps", "5", "--save-at", "5",
                "--force", "--out", folder,
            ])
        #expect(forced.status == 0, "\(forced.standardError)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == ["index.json", "s0-net-000-step-00005.safetensors"], "the old zoo's files are gone")
    }

    @Test(
        "bad options are refused with the option named",
        arguments: [
            (["--save-at", "10,40"], "--save-at: step 40 is after the last step"),
            (["--save-at", "10,x"], "--save-at: 'x' is not a step number"),
            (["--count", "0"], "--count must be at least 1"),
            (["--network", "mlp:64-8-11"], "--network 'mlp:64-8-11'"),
            (["--task", "CartPole-v1"], "--task 'CartPole-v1'"),
            (["--lr", "0"], "--lr must be a positive number"),
        ])
    func badOptions(extra: [String], expected: String) throws {
        var arguments = ["zoo", "--task", "digits", "--count", "1", "--steps", "30", "--out", temporaryFolder()]
        if !extra.contains("--network") { arguments += ["--network", "mlp:64-8-10"] }
        for (position, option) in extra.enumerated() where position % 2 == 0 {
            if let existing = arguments.firstIndex(of: option) { arguments.removeSubrange(existing...existing + 1) }
        }
        let result = try AtollProcess.run(arguments + extra)
        #expect(result.status != 0)
        #expect(result.standardError.contains(expected), "\(result.standardError)")
    }
}
