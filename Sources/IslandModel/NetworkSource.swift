import Evolution
import Foundation
import MetaLearning
import Networks
import Tasks

/// `network:` a shorthand (`mlp:64-32-10`), a path, or an inline spec.
public enum NetworkSource: Codable, Equatable, Sendable {
    case text(String)
    case inline(NetworkSpec)

    public init(from decoder: Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            self = .text(text)
        } else {
            self = .inline(try NetworkSpec(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .text(let text):
            var c = encoder.singleValueContainer()
            try c.encode(text)
        case .inline(let spec):
            try spec.encode(to: encoder)
        }
    }

    /// The spec, parsing a shorthand or reading a file.
    public func spec() throws -> NetworkSpec {
        switch self {
        case .inline(let spec): return spec
        case .text(let text):
            if FileManager.default.fileExists(atPath: text) { return try NetworkSpec.load(path: text) }
            return try NetworkSpec.parse(text)
        }
    }

    /// A path-valued source made absolute against `directory`; the spec is read once here so a
    /// bad spec fails before the run starts, and stored inline so the run folder is self-contained.
    func resolved(relativeTo directory: URL) throws -> NetworkSource {
        do {
            if case .text(let text) = self, !text.hasPrefix("mlp:"), !text.contains("\n") {
                let url = URL(fileURLWithPath: text, relativeTo: directory)
                if FileManager.default.fileExists(atPath: url.path) {
                    return .inline(try NetworkSpec.load(path: url.path))
                }
                // Not a shorthand, not inline YAML: a path that names no file.
                if text.contains("/") || [".yaml", ".yml", ".json"].contains(where: text.hasSuffix) {
                    throw NetworkSpecError.invalid(
                        "no such file: \(url.path) (a network is a shorthand such as mlp:64-32-10, a spec file, or an inline spec)"
                    )
                }
            }
            return .inline(try spec())
        } catch {
            throw ConfigError.invalidValue(path: "network", message: "\(error)")
        }
    }
}
