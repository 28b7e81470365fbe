import Foundation

/// FNV-1a, 64-bit (Fowler, Noll, Vo): `h ← (h ⊕ byte) · 1099511628211`, from 14695981039346656037.
///
/// Detects truncated and corrupted checkpoint files; not a cryptographic hash.
public struct Checksum: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for byte in bytes {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    public static func of(_ data: Data) -> UInt64 {
        var checksum = Checksum()
        data.withUnsafeBytes { checksum.update($0) }
        return checksum.value
    }

    /// The checksum as 16 lower-case hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
