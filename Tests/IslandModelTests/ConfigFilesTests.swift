import Foundation
import IslandModel
import MetaLearning
import Testing

/// Every config shipped in configs/ parses and validates: run configs with `RunConfig`,
/// meta-learner configs (`meta*.yaml`, for `atoll pretrain`) with `MetaLearnerSetup`.
@Suite("Shipped configs")
struct ConfigFilesTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("configs")

    @Test(
        "every file in configs/ loads",
        arguments: (try? FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
            .sorted()) ?? [])
    func loads(name: String) throws {
        let path = Self.folder.appendingPathComponent(name).path
        if name.hasPrefix("meta") {
            _ = try MetaLearnerSetup.load(path: path)
        } else {
            _ = try RunConfig.load(path: path)
        }
    }

    /// The argument list above would be empty (and `loads` would pass vacuously) without the folder.
    @Test("configs/ holds the shipped run and meta-learner configs")
    func folderIsThere() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
        for expected in ["digits.yaml", "digits-full.yaml", "reference.yaml", "tiny.yaml", "meta.yaml"] {
            #expect(names.contains(expected), "configs/\(expected)")
        }
    }

    @Test("configs/reference.yaml states the defaults")
    func referenceIsDefaults() throws {
        var config = try RunConfig.load(path: Self.folder.appendingPathComponent("reference.yaml").path)
        var defaults = try RunConfig.parse("")
        config.network = defaults.network
        defaults.output = config.output
        #expect(config == defaults)
    }
}
