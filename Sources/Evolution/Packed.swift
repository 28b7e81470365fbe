import Foundation

/// An array of floating-point numbers that encodes as its raw little-endian bytes (base64 in
/// JSON) instead of one number per element, so a strategy's `[λ × D]` samples checkpoint in
/// seconds, bit for bit.
@propertyWrapper
public struct Packed<Element: BinaryFloatingPoint & Sendable>: Codable, Equatable, Sendable {
    public var wrappedValue: [Element]

    public init(wrappedValue: [Element]) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        let size = MemoryLayout<Element>.stride
        guard data.count % size == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(data.count) bytes is not a whole number of \(size)-byte values"))
        }
        var values = [Element](repeating: 0, count: data.count / size)
        values.withUnsafeMutableBytes { target in _ = data.copyBytes(to: target) }
        wrappedValue = values
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wrappedValue.withUnsafeBytes { Data($0) })
    }
}
