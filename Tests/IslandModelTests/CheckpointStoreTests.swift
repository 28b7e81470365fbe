import Collectives
import Foundation
import IslandModel
import Testing

@Suite("CheckpointStore")
struct CheckpointStoreTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("ranks write their own files; the newest checkpoint reads back; only two are kept")
    func writeAndRead() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CheckpointStore(directory: root.appendingPathComponent("checkpoints"))
        for generation in [5, 10, 15] {
            _ = try LocalCommunicator.run(size: 2) { comm in
                try store.write(
                    generation: generation,
                    files: ["island-\(comm.rank).bin": Data("g\(generation) r\(comm.rank)".utf8)],
                    communicator: comm)
            }
        }
        #expect(store.completeGenerations() == [15, 10])
        var warnings: [String] = []
        let newest = try #require(store.newestValid { warnings.append($0) })
        #expect(newest.generation == 15)
        #expect(warnings.isEmpty)
        #expect(String(decoding: try newest.read("island-1.bin"), as: UTF8.self) == "g15 r1")
        #expect(newest.manifest.files.map(\.name) == ["island-0.bin", "island-1.bin"])
    }

    @Test("a truncated or corrupted file makes the reader fall back to the previous checkpoint, with a warning")
    func corruptFallsBack() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CheckpointStore(directory: root)
        let comm = LocalCommunicator.makeWorld(size: 1)[0]
        try store.write(generation: 1, files: ["state.bin": Data(repeating: 1, count: 1000)], communicator: comm)
        try store.write(generation: 2, files: ["state.bin": Data(repeating: 2, count: 1000)], communicator: comm)
        let file = root.appendingPathComponent("00000002/state.bin")

        try Data(repeating: 2, count: 600).write(to: file)  // truncated
        var warnings: [String] = []
        #expect(store.newestValid { warnings.append($0) }?.generation == 1)
        #expect(warnings.count == 1)
        #expect(warnings[0].contains("00000002"))
        #expect(warnings[0].contains("state.bin has 600 bytes, the manifest says 1000"))

        var flipped = Data(repeating: 2, count: 1000)
        flipped[500] = 3
        try flipped.write(to: file)  // same size, one byte changed
        warnings = []
        #expect(store.newestValid { warnings.append($0) }?.generation == 1)
        #expect(warnings.first?.contains("(corrupt)") == true)

        try FileManager.default.removeItem(at: root.appendingPathComponent("00000001/manifest.json"))
        warnings = []
        #expect(store.newestValid { warnings.append($0) } == nil)
        #expect(warnings.count == 2)
    }

    @Test("a partial folder left by a crash is ignored and cleaned up by the next write")
    func partialIgnored() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CheckpointStore(directory: root)
        let comm = LocalCommunicator.makeWorld(size: 1)[0]
        try store.write(generation: 3, files: ["a": Data([1])], communicator: comm)
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent(".partial-00000004"), withIntermediateDirectories: true)
        #expect(store.newestValid { _ in }?.generation == 3)
        try store.write(generation: 4, files: ["a": Data([2])], communicator: comm)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".partial-00000004").path))
        #expect(store.completeGenerations() == [4, 3])
    }

    @Test("two ranks writing the same file name is an error")
    func duplicateNames() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CheckpointStore(directory: root)
        let outcomes = try LocalCommunicator.run(size: 2, timeout: 10) { comm -> String in
            do {
                try store.write(generation: 1, files: ["same.bin": Data([UInt8(comm.rank)])], communicator: comm)
                return "written"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcomes.allSatisfy { $0.contains("same name") }, "every rank learns of the failure")
        #expect(store.completeGenerations().isEmpty)
    }

    @Test("a bad file name on one rank fails every rank at once")
    func badNameOnOneRank() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CheckpointStore(directory: root)
        let outcomes = try LocalCommunicator.run(size: 2, timeout: 10) { comm -> String in
            do {
                try store.write(
                    generation: 1, files: [comm.rank == 1 ? "../escape" : "ok.bin": Data([1])], communicator: comm)
                return "written"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcomes.allSatisfy { $0.contains("rank 1: checkpoint file name '../escape' is not allowed") })
    }
}
