/// Strict decoding for configuration files: an unknown key is an error naming it and where it is.
///
/// Every configuration section decodes through `decoder.strictContainer(keyedBy:)`, whose key type
/// lists every key the section accepts (`CaseIterable`); any other key in the file throws
/// `ConfigError.unknownKey` with its full path, e.g. `migration.intervall`.
public protocol ConfigKey: CodingKey, CaseIterable, RawRepresentable where RawValue == String {}

extension Decoder {
    /// A keyed container that first rejects keys `Key` does not list.
    public func strictContainer<Key: ConfigKey>(keyedBy: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let any = try container(keyedBy: AnyConfigKey.self)
        let known = Set(Key.allCases.map(\.rawValue))
        for key in any.allKeys where !known.contains(key.stringValue) {
            let path = (codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw ConfigError.unknownKey(path: path, allowed: known.sorted())
        }
        return try container(keyedBy: Key.self)
    }
}

/// Any string key, for listing what a file holds.
struct AnyConfigKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }
    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// A configuration that cannot be used, with the key and what was expected.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unknownKey(path: String, allowed: [String])
    case invalidValue(path: String, message: String)
    case file(path: String, message: String)

    public var description: String {
        switch self {
        case .unknownKey(let path, let allowed):
            "unknown key '\(path)' (allowed here: \(allowed.joined(separator: ", ")))"
        case .invalidValue(let path, let message):
            "\(path): \(message)"
        case .file(let path, let message):
            "\(path): \(message)"
        }
    }
}

extension KeyedDecodingContainer {
    /// A string enum (`allreduce`, `evolution.algorithm`, …): a value it does not name is an error
    /// listing the valid ones, not Swift's "Cannot initialize … from invalid String value".
    public func decodeIfPresent<T>(_ type: T.Type, forKey key: Key) throws -> T?
    where T: Decodable & CaseIterable & RawRepresentable, T.RawValue == String {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let value = T(rawValue: text) else {
            let path = (codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw ConfigError.invalidValue(
                path: path, message: "'\(text)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
