import Foundation

extension RunConfig {
    /// Every leaf value of the configuration by its key path (`evolution.mutation_sigma`,
    /// `network.layers[1].linear`), each value as JSON text (`0.05`, `"ring"`, `true`).
    ///
    /// Read from the configuration's own encoding, so a field added to any section is covered
    /// without being listed here. A non-finite number is the text `+inf`, `-inf` or `nan`
    /// (JSON has no such numbers), which `validateFinite()` rejects.
    func keyPathValues() throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: Self.nonFiniteMark + "+inf", negativeInfinity: Self.nonFiniteMark + "-inf",
            nan: Self.nonFiniteMark + "nan")
        let tree = try JSONSerialization.jsonObject(with: try encoder.encode(self), options: [.fragmentsAllowed])
        var values: [String: String] = [:]
        func visit(_ node: Any, _ path: String) {
            if let object = node as? [String: Any] {
                for (key, child) in object { visit(child, path.isEmpty ? key : path + "." + key) }
            } else if let array = node as? [Any] {
                if array.isEmpty { values[path] = "[]" }
                for (i, child) in array.enumerated() { visit(child, path + "[\(i)]") }
            } else if let text = node as? String, text.hasPrefix(Self.nonFiniteMark) {
                values[path] = String(text.dropFirst(Self.nonFiniteMark.count))
            } else {
                let data = try? JSONSerialization.data(
                    withJSONObject: node, options: [.fragmentsAllowed, .withoutEscapingSlashes])
                values[path] = data.map { String(decoding: $0, as: UTF8.self) } ?? "\(node)"
            }
        }
        visit(tree, "")
        return values
    }

    /// Marks a non-finite number in the encoding (no configuration string starts with U+0000).
    private static let nonFiniteMark = "\u{0}"

    /// Every real-valued setting must be a finite number: `.inf` or `.nan` in a config is an error
    /// naming the key, not a run that overflows or never stops.
    ///
    /// - Throws: `ConfigError.invalidValue` for the first such key in key-path order.
    func validateFinite() throws {
        let values = try keyPathValues()
        for path in values.keys.sorted() {
            let value = values[path]!
            if value == "+inf" || value == "-inf" || value == "nan" {
                throw ConfigError.invalidValue(path: path, message: "expected a finite number, got \(value)")
            }
        }
    }
}
