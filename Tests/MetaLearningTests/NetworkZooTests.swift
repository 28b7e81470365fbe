import Foundation
import Kernels
@testable import MetaLearning
import Networks
import Testing

@Suite struct NetworkZooTests {
    /// Writes a zoo in `atoll zoo`'s format: `networks` networks of each spec, checkpoints at
    /// steps 0 and 10; returns the folder and the genomes by file name.
    func writeZoo(specs: [String], networks: Int) throws -> (String, [String: [Float]]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-zoo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var entries: [String] = []
        var genomes: [String: [Float]] = [:]
        for (s, text) in specs.enumerated() {
            let network = try Network(spec: try NetworkSpec.parse(text))
            for i in 0 ..< networks {
                var stream = RandomStream(seed: UInt64(i), purpose: "zoo test")
                for step in [0, 10] {
                    let genome = network.initializedGenome(stream: &stream)
                    let file = String(format: "s%d-net-%03d-step-%05d.safetensors", s, i, step)
                    try SafeTensors(genome: genome, layout: network.layout, metadata: ["network": text]).write(path: directory + "/" + file)
                    genomes[file] = genome
                    entries.append(#"{"file": "\#(file)", "network": "\#(text)", "seed": \#(i), "step": \#(step), "fitness": -\#(Double(i + 1) / 10), "test_accuracy": 0.9}"#)
                }
            }
        }
        let index = #"{"format": "atoll-zoo", "version": 1, "task": "digits", "entries": [\#(entries.joined(separator: ", "))]}"#
        try index.write(toFile: directory + "/index.json", atomically: true, encoding: .utf8)
        return (directory, genomes)
    }

    @Test func readsEntriesAndGenomes() throws {
        let (directory, genomes) = try writeZoo(specs: ["mlp:4-3-2"], networks: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let zoo = try NetworkZoo(directory: directory)
        #expect(zoo.task == "digits" && zoo.entries.count == 4)
        for entry in zoo.entries {
            let (spec, genome) = try zoo.load(entry)
            #expect(spec == .mlp([4, 3, 2]))
            #expect(genome == genomes[entry.file])
        }
    }

    @Test func heldOutSplitIsByNetworkAndPerSize() throws {
        let (directory, _) = try writeZoo(specs: ["mlp:4-3-2", "mlp:4-5-2"], networks: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let zoo = try NetworkZoo(directory: directory)
        let (train, heldOut) = zoo.split(heldOut: 0.4, seed: 1)
        #expect(train.count + heldOut.count == zoo.entries.count)
        let trainNetworks = Set(train.map(\.networkKey)), heldOutNetworks = Set(heldOut.map(\.networkKey))
        #expect(trainNetworks.isDisjoint(with: heldOutNetworks), "a network has checkpoints on both sides")
        for spec in ["mlp:4-3-2", "mlp:4-5-2"] {
            #expect(heldOutNetworks.filter { $0.hasPrefix(spec + "#") }.count == 2)
        }
        #expect(zoo.split(heldOut: 0.4, seed: 1).heldOut.map(\.file) == heldOut.map(\.file))
    }

    @Test func missingOrForeignIndexIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-zoo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: NetworkZoo.ZooError.self) { try NetworkZoo(directory: directory) }
        try #"{"format": "other", "version": 1, "task": "digits", "entries": []}"#.write(toFile: directory + "/index.json", atomically: true, encoding: .utf8)
        do {
            _ = try NetworkZoo(directory: directory)
            Issue.record("a foreign index was accepted")
        } catch let error as NetworkZoo.ZooError {
            #expect(error.file.hasSuffix("index.json") && error.message.contains("atoll-zoo"))
        }
    }
}
