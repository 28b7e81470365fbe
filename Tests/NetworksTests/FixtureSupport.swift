import Foundation
import Testing

/// Files under Tests/NetworksTests/Fixtures (copied into the test bundle).
enum Fixture {
    static func url(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A JSON array of numbers as floats.
    static func floats(_ value: Any?) throws -> [Float] {
        try #require(value as? [NSNumber]).map { $0.floatValue }
    }

    static func doubles(_ value: Any?) throws -> [Double] {
        try #require(value as? [NSNumber]).map { $0.doubleValue }
    }
}

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-networks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
