import Foundation

/// One IDX file of unsigned bytes, the format of MNIST and Fashion-MNIST, plain or gzipped.
///
/// Layout (all integers big-endian): bytes 0–1 are zero, byte 2 is the element type (`0x08`,
/// unsigned byte, the only type read here), byte 3 the number of dimensions `d`; then `d` 32-bit
/// sizes; then `∏ sizes` bytes of data in row-major order. Labels files have magic `0x00000801`
/// (one dimension: the item count), image files `0x00000803` (count, rows, columns). A gzipped file
/// (starting `1f 8b`) is inflated first; offsets in errors count the inflated bytes.
/// Format: Y. LeCun, C. Cortes, C. Burges, "The MNIST database of handwritten digits" (1998).
public struct IDXFile: Sendable {
    /// Magic number of a labels file: unsigned bytes, one dimension.
    public static let labelsMagic: UInt32 = 0x0000_0801
    /// Magic number of an images file: unsigned bytes, three dimensions.
    public static let imagesMagic: UInt32 = 0x0000_0803

    /// The path it was read from (for messages).
    public let path: String
    /// Sizes of every dimension; `dimensions[0]` is the item count.
    public let dimensions: [Int]
    /// The data bytes, `∏ dimensions` of them.
    public let bytes: [UInt8]
    /// Offset of the first data byte (after the header), for messages about items.
    public let dataOffset: Int

    /// Number of items (the first dimension).
    public var count: Int { dimensions[0] }
    /// Bytes per item (the product of the other dimensions, 1 for labels).
    public var itemSize: Int { dimensions.dropFirst().reduce(1, *) }

    /// Reads the file at `path`, which must have magic number `magic`.
    ///
    /// - Parameter package: the Debian package that ships the file, named when it is missing.
    /// - Throws: `IDXError` naming the file and the byte offset of what is wrong.
    public init(path: String, magic: UInt32, package: String? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw IDXError.fileNotFound(path: path, package: package)
        }
        guard let raw = FileManager.default.contents(atPath: path) else {
            throw IDXError.unreadable(path: path, reason: "permission denied or not a regular file")
        }
        try self.init(contents: raw, path: path, magic: magic)
    }

    /// Parses the contents of an IDX file, plain or gzipped (`path` only names it in errors).
    ///
    /// - Throws: `IDXError` naming `path` and the byte offset of what is wrong.
    public init(contents raw: Data, path: String, magic: UInt32) throws {
        let data: Data
        if Gzip.isCompressed(raw) {
            do {
                data = try Gzip.decompress(raw)
            } catch Gzip.Error.truncated {
                throw IDXError.unreadable(
                    path: path, reason: "the gzip stream ends at byte \(raw.count) of the compressed file (truncated)")
            } catch {
                throw IDXError.unreadable(path: path, reason: "\(error)")
            }
        } else {
            data = raw
        }
        try self.init(bytes: [UInt8](data), path: path, magic: magic)
    }

    /// Parses IDX bytes already in memory (`path` only names them in errors).
    public init(bytes: [UInt8], path: String, magic: UInt32) throws {
        func word(at offset: Int) throws -> Int {
            guard offset + 4 <= bytes.count else {
                throw IDXError.truncated(path: path, offset: offset, needed: offset + 4, size: bytes.count)
            }
            return Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
        }
        let found = UInt32(try word(at: 0))
        guard found == magic else { throw IDXError.wrongMagic(path: path, offset: 0, found: found, expected: magic) }
        let rank = Int(magic & 0xFF)
        var dimensions: [Int] = []
        for k in 0..<rank { dimensions.append(try word(at: 4 + 4 * k)) }
        let header = 4 + 4 * rank
        var dataSize = 1
        for size in dimensions {
            let (product, overflow) = dataSize.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Int.max - header else {
                throw IDXError.oversized(path: path, offset: 4, dimensions: dimensions)
            }
            dataSize = product
        }
        let needed = header + dataSize
        guard bytes.count >= needed else {
            throw IDXError.truncated(path: path, offset: bytes.count, needed: needed, size: bytes.count)
        }
        guard bytes.count == needed else { throw IDXError.trailingBytes(path: path, offset: needed, size: bytes.count) }
        self.path = path
        self.dimensions = dimensions
        self.bytes = Array(bytes[header...])
        dataOffset = header
    }
}
