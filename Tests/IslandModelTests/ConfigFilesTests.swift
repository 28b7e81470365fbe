import Foundation
import IslandModel
import Testing

/// Every config shipped in configs/ parses and validates.
@Suite("Shipped configs")
struct ConfigFilesTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs")

    @Test("every file in configs/ loads", arguments: (try? FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()) ?? [])
    func loads(name: String) throws {
        _ = try RunConfig.load(path: Self.folder.appendingPathComponent(name).path)
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
