import Foundation
import Kernels
import Networks
import Testing

@testable import MetaLearning

@Suite struct ZooIndexTests {
    func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-zoo-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    func entry(_ file: String, fitness: Double = -0.31) -> ZooIndex.Entry {
        ZooIndex.Entry(
            file: file, network: "mlp:4-3-2", seed: 2, step: 500, fitness: fitness, trainAccuracy: 0.93,
            testAccuracy: 0.91)
    }

    /// A zoo folder with one saved 4-3-2 network and its index.
    func writeZoo(metadata: [String: String]? = nil) throws -> (folder: String, genome: [Float]) {
        let folder = try temporaryFolder()
        let spec = try NetworkSpec.parse("mlp:4-3-2")
        let layout = try ParameterLayout(spec: spec)
        let genome = (0..<layout.parameterCount).map { Float($0) / 10 }
        let specJSON = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        try SafeTensors(genome: genome, layout: layout, metadata: metadata ?? ["atoll.network": specJSON])
            .write(path: (folder as NSString).appendingPathComponent("a.safetensors"))
        try ZooIndex(task: "digits", entries: [entry("a.safetensors")]).write(directory: folder)
        return (folder, genome)
    }

    @Test("write then load gives the same index, in the documented JSON form")
    func roundTrip() throws {
        let (folder, genome) = try writeZoo()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let index = try ZooIndex.load(directory: folder)
        #expect(index == ZooIndex(task: "digits", entries: [entry("a.safetensors")]))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ZooIndex.path(in: folder))))
                as? [String: Any])
        #expect(json["format"] as? String == "atoll-zoo")
        #expect(json["version"] as? Int == 1)
        #expect(json["task"] as? String == "digits")
        let first = try #require((json["entries"] as? [[String: Any]])?.first)
        #expect(Set(first.keys) == ["file", "network", "seed", "step", "fitness", "train_accuracy", "test_accuracy"])
        #expect(first["test_accuracy"] as? Double == 0.91)

        let loaded = try index.entries[0].load(in: folder)
        #expect(loaded.spec == NetworkSpec.mlp([4, 3, 2]))
        #expect(loaded.genome == genome)
    }

    @Test("without atoll.network metadata the spec comes from the entry's shorthand")
    func specFromShorthand() throws {
        let (folder, genome) = try writeZoo(metadata: [:])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let loaded = try ZooIndex.load(directory: folder).entries[0].load(in: folder)
        #expect(loaded.spec == NetworkSpec.mlp([4, 3, 2]))
        #expect(loaded.genome == genome)
    }

    @Test("a diverged network's fitness survives the round trip")
    func nonFiniteFitness() throws {
        let (folder, _) = try writeZoo()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try ZooIndex(task: "digits", entries: [entry("a.safetensors", fitness: -.infinity)]).write(directory: folder)
        #expect(try ZooIndex.load(directory: folder).entries[0].fitness == -.infinity)
    }

    @Test("a missing folder, or a folder without an index, says what is wrong")
    func missingIndex() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let absent = folder + "/nope"
        #expect(throws: ZooIndex.LoadError.missingDirectory(absent)) { try ZooIndex.load(directory: absent) }
        #expect(throws: ZooIndex.LoadError.missingIndex(directory: folder)) { try ZooIndex.load(directory: folder) }
        #expect(ZooIndex.LoadError.missingIndex(directory: folder).description.contains("did not finish"))
    }

    @Test("a listed file that is absent is named")
    func missingFile() throws {
        let (folder, _) = try writeZoo()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try ZooIndex(task: "digits", entries: [entry("a.safetensors"), entry("b.safetensors")]).write(directory: folder)
        #expect(throws: ZooIndex.LoadError.missingFile(index: ZooIndex.path(in: folder), file: "b.safetensors")) {
            try ZooIndex.load(directory: folder)
        }
    }

    @Test(
        "invalid indexes are refused with the field at fault",
        arguments: [
            ("{not json", "not valid JSON"),
            (#"{"format":"other","version":1,"task":"digits","entries":[]}"#, "format is 'other'"),
            (#"{"format":"atoll-zoo","version":2,"task":"digits","entries":[]}"#, "version 2 is not supported"),
            (#"{"format":"atoll-zoo","version":1,"task":"digits","entries":[]}"#, "lists no networks"),
            (#"{"format":"atoll-zoo","version":1,"entries":[]}"#, "missing field 'task'"),
            (
                #"{"format":"atoll-zoo","version":1,"task":"digits","entries":[{"file":"a.safetensors","network":"mlp:4-3-2","seed":0,"step":"ten","fitness":0}]}"#,
                "entries"
            ),
            (
                #"{"format":"atoll-zoo","version":1,"task":"digits","entries":[{"file":"../a.safetensors","network":"mlp:4-3-2","seed":0,"step":1,"fitness":0}]}"#,
                "should be a file name"
            ),
            (
                #"{"format":"atoll-zoo","version":1,"task":"digits","entries":[{"file":"a.safetensors","network":"n","seed":0,"step":1,"fitness":0},{"file":"a.safetensors","network":"n","seed":0,"step":2,"fitness":0}]}"#,
                "listed twice"
            ),
        ])
    func invalidIndex(text: String, expected: String) throws {
        let (folder, _) = try writeZoo()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try text.write(toFile: ZooIndex.path(in: folder), atomically: true, encoding: .utf8)
        let error = try #require(throws: ZooIndex.LoadError.self) { try ZooIndex.load(directory: folder) }
        guard case .invalidIndex(let path, let message) = error else {
            Issue.record("expected invalidIndex, got \(error)")
            return
        }
        #expect(path == ZooIndex.path(in: folder))
        #expect(message.contains(expected), "message: \(message)")
    }

    @Test("an entry whose file does not hold its network is refused with the file named")
    func wrongTensors() throws {
        let (folder, _) = try writeZoo()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var index = try ZooIndex.load(directory: folder)
        index.entries[0].network = "mlp:4-5-2"
        let file = index.entries[0].path(in: folder)
        try SafeTensors(tensors: [.init(name: "0.weight", shape: [2, 2], values: [1, 2, 3, 4])]).write(path: file)
        let error = try #require(throws: ZooIndex.LoadError.self) { try index.entries[0].load(in: folder) }
        guard case .invalidFile(let path, _) = error else {
            Issue.record("expected invalidFile, got \(error)")
            return
        }
        #expect(path == file)
    }

    /// A zoo in `atoll zoo`'s layout: `networks` networks of each spec (seeds 0, 1, …), checkpoints
    /// at steps 0 and 10.
    func writeZoo(specs: [String], networks: Int) throws -> String {
        let folder = try temporaryFolder()
        var entries: [ZooIndex.Entry] = []
        for (s, text) in specs.enumerated() {
            let network = try Network(spec: try NetworkSpec.parse(text))
            for i in 0..<networks {
                var stream = RandomStream(seed: UInt64(i), purpose: "zoo test")
                for step in [0, 10] {
                    let file = String(format: "s%d-net-%03d-step-%05d.safetensors", s, i, step)
                    try SafeTensors(
                        genome: network.initializedGenome(stream: &stream), layout: network.layout, metadata: [:]
                    )
                    .write(path: (folder as NSString).appendingPathComponent(file))
                    entries.append(
                        ZooIndex.Entry(
                            file: file, network: text, seed: UInt64(i), step: step, fitness: -Double(i + 1) / 10,
                            trainAccuracy: nil, testAccuracy: 0.9))
                }
            }
        }
        try ZooIndex(task: "digits", entries: entries).write(directory: folder)
        return folder
    }

    @Test("the held-out split is by network, never by checkpoint, and per network size")
    func heldOutSplitIsByNetworkAndPerSize() throws {
        let folder = try writeZoo(specs: ["mlp:4-3-2", "mlp:4-5-2"], networks: 5)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let zoo = try ZooIndex.load(directory: folder)
        let (train, heldOut) = zoo.split(heldOut: 0.4, seed: 1)
        #expect(train.count + heldOut.count == zoo.entries.count)
        let trainNetworks = Set(train.map(\.networkKey))
        let heldOutNetworks = Set(heldOut.map(\.networkKey))
        #expect(trainNetworks.isDisjoint(with: heldOutNetworks), "a network has checkpoints on both sides")
        for spec in ["mlp:4-3-2", "mlp:4-5-2"] {
            // round(0.4 · 5) = 2 of each size's 5 networks, with both their checkpoints
            #expect(heldOutNetworks.filter { $0.hasPrefix(spec + "#") }.count == 2)
            #expect(heldOut.filter { $0.network == spec }.count == 4)
        }
        #expect(zoo.split(heldOut: 0.4, seed: 1).heldOut.map(\.file) == heldOut.map(\.file))
        #expect(zoo.split(heldOut: 0, seed: 1).heldOut.isEmpty)
        // a size with two networks still keeps one for training
        let pair = try writeZoo(specs: ["mlp:4-3-2"], networks: 2)
        defer { try? FileManager.default.removeItem(atPath: pair) }
        let split = try ZooIndex.load(directory: pair).split(heldOut: 0.9, seed: 1)
        #expect(Set(split.train.map(\.networkKey)).count == 1 && Set(split.heldOut.map(\.networkKey)).count == 1)
    }
}
