/// Why an IDX file (the MNIST file format) could not be read: each case names the file, and where
/// it applies the byte offset (0-based, in the decompressed bytes for a gzipped file).
public enum IDXError: Error, CustomStringConvertible, Equatable {
    /// A file of the folder is missing; `package` names the Debian package that ships it, if any.
    case fileNotFound(path: String, package: String?)
    case unreadable(path: String, reason: String)
    /// The 4 bytes at offset 0 are not the expected magic number.
    case wrongMagic(path: String, offset: Int, found: UInt32, expected: UInt32)
    /// The file ends at byte `size` but the header says the data go on to byte `needed`.
    case truncated(path: String, offset: Int, needed: Int, size: Int)
    /// The header's dimensions multiply to more bytes than an `Int` can count (a corrupt header).
    case oversized(path: String, offset: Int, dimensions: [Int])
    /// Bytes after the end of the data the header describes.
    case trailingBytes(path: String, offset: Int, size: Int)
    /// A dimension the task needs (28 × 28 images, say) differs from the file's.
    case wrongShape(path: String, offset: Int, expected: [Int], found: [Int])
    /// The images and labels files hold different numbers of items.
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// A label outside `0 ..< classCount`.
    case labelOutOfRange(path: String, offset: Int, label: Int, classCount: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path, let package):
            "\(path): no such IDX file"
                + (package.map { " (install the Debian package \($0): apt-get install \($0))" } ?? "")
        case .unreadable(let path, let reason):
            "\(path): cannot read: \(reason)"
        case .wrongMagic(let path, let offset, let found, let expected):
            "\(path): byte \(offset): magic number 0x\(Self.hex(found)), expected 0x\(Self.hex(expected)) (not an IDX file of this kind)"
        case .truncated(let path, let offset, let needed, let size):
            "\(path): byte \(offset): the file ends at byte \(size) but its header needs \(needed) bytes (truncated)"
        case .oversized(let path, let offset, let dimensions):
            "\(path): byte \(offset): dimensions \(dimensions) multiply to more bytes than a file can hold (corrupt header)"
        case .trailingBytes(let path, let offset, let size):
            "\(path): byte \(offset): \(size - offset) bytes after the end of the data the header describes"
        case .wrongShape(let path, let offset, let expected, let found):
            "\(path): byte \(offset): item shape \(found), expected \(expected)"
        case .countMismatch(let images, let imageCount, let labels, let labelCount):
            "\(images) holds \(imageCount) images but \(labels) holds \(labelCount) labels"
        case .labelOutOfRange(let path, let offset, let label, let classCount):
            "\(path): byte \(offset): label \(label) is outside 0 ..< \(classCount)"
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
