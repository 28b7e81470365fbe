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

    /// Where a whole checkpoint's packed arrays are written, beside the JSON rather than inside it
    /// (`PackedBytes.userInfoKey` in the coder's `userInfo`): the JSON then holds `[offset, count]`
    /// into the bytes, and no base64 copy of a large array is ever made.
    private struct Reference: Codable {
        var offset: Int
        var count: Int
    }

    public init(from decoder: Decoder) throws {
        if let source = decoder.userInfo[PackedBytes.userInfoKey] as? PackedBytes {
            let reference = try decoder.singleValueContainer().decode(Reference.self)
            let size = MemoryLayout<Element>.stride
            guard reference.offset >= 0, reference.count >= 0,
                reference.count <= (source.data.count - reference.offset) / size
            else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription:
                            "\(reference.count) values at byte \(reference.offset) lie outside the \(source.data.count) packed bytes"
                    ))
            }
            var values = [Element](repeating: 0, count: reference.count)
            values.withUnsafeMutableBytes { target in
                _ = source.data.copyBytes(
                    to: target, from: reference.offset..<reference.offset + reference.count * size)
            }
            wrappedValue = values
            return
        }
        let data = try decoder.singleValueContainer().decode(Data.self)
        let size = MemoryLayout<Element>.stride
        guard data.count % size == 0 else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "\(data.count) bytes is not a whole number of \(size)-byte values"))
        }
        var values = [Element](repeating: 0, count: data.count / size)
        values.withUnsafeMutableBytes { target in _ = data.copyBytes(to: target) }
        wrappedValue = values
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let sink = encoder.userInfo[PackedBytes.userInfoKey] as? PackedBytes {
            let offset = sink.data.count
            wrappedValue.withUnsafeBytes { sink.data.append(contentsOf: $0) }
            try c.encode(Reference(offset: offset, count: wrappedValue.count))
            return
        }
        try c.encode(wrappedValue.withUnsafeBytes { Data($0) })
    }
}

/// The bytes `Packed` arrays are written to and read from when a coder's `userInfo` holds one
/// under `userInfoKey` (an island checkpoint: the algorithm's JSON state, then these bytes).
public final class PackedBytes: @unchecked Sendable {
    public static let userInfoKey = CodingUserInfoKey(rawValue: "atoll.packed-bytes")!
    public var data: Data

    public init(_ data: Data = Data()) {
        self.data = data
    }
}
