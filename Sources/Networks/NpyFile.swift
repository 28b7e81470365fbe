import Foundation

/// One-dimensional float arrays in numpy's `.npy` format: the genome files of `atoll import` and
/// `atoll export`.
///
/// Format (numpy `lib.format`): the magic `\x93NUMPY`, a major and minor version byte, the header
/// length (2 bytes little-endian in version 1.0, 4 bytes in 2.0 and 3.0), an ASCII Python dict
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (n,), }` padded with spaces and ended by
/// `\n` so the data starts at a multiple of 64 bytes, then the raw values. Writing produces
/// version 1.0 with `'<f4'`; reading accepts versions 1–3 and `'<f4'` or `'<f8'` (rounded to
/// float32) of shape `(n,)`.
public enum NpyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The file's values.
    /// - Throws: `NpyError` naming the file and what is not as expected.
    public static func read(path: String) throws -> [Float] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw NpyError(file: path, message: "cannot read: \(error.localizedDescription)")
        }
        do {
            return try decode(data)
        } catch let error as NpyError {
            throw NpyError(file: path, message: error.message)
        }
    }

    /// The values in the bytes of a `.npy` file.
    /// - Throws: `NpyError` saying what is not as expected (`read` adds the file's name).
    public static func decode(_ data: Data) throws -> [Float] {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NpyError(message: "not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), bytes.count >= 8 + lengthBytes else {
            throw NpyError(message: "unsupported .npy version \(major).\(bytes[7])")
        }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let dataStart = 8 + lengthBytes + headerLength
        guard dataStart <= bytes.count else {
            throw NpyError(message: "header length \(headerLength) runs past the end of the file")
        }
        let header = String(decoding: bytes[(8 + lengthBytes)..<dataStart], as: UTF8.self)
        guard let descr = field("descr", in: header), let shapeText = field("shape", in: header),
            let fortran = field("fortran_order", in: header)
        else {
            throw NpyError(
                message:
                    "header \(header.trimmingCharacters(in: .whitespacesAndNewlines)) lacks descr, fortran_order or shape"
            )
        }
        let width: Int
        switch descr {
        case "'<f4'": width = 4
        case "'<f8'": width = 8
        default: throw NpyError(message: "dtype \(descr) is not supported; expected '<f4' (float32) or '<f8'")
        }
        let dimensions = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard dimensions.count == 1, let count = Int(dimensions[0]), fortran == "False" || fortran == "True" else {
            throw NpyError(message: "shape \(shapeText) is not one-dimensional; expected a flat genome of shape (n,)")
        }
        guard count >= 0 else { throw NpyError(message: "shape \(shapeText) has a negative size") }
        let (needed, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, bytes.count - dataStart == needed else {
            let size = overflow ? "more than \(Int.max)" : "\(needed)"
            throw NpyError(
                message:
                    "shape (\(count),) of \(width)-byte values needs \(size) bytes of data, the file has \(bytes.count - dataStart)"
            )
        }
        return bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            if width == 4 {
                return (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
            return (0..<count).map {
                Float(
                    Double(
                        bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))))
            }
        }
    }

    /// The text after `'key':` up to the next top-level comma, e.g. `'<f4'`, `False`, `(10,)`.
    private static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        var value = ""
        var depth = 0
        for character in header[keyRange.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if (character == "," && depth == 0) || character == "}" { break }
            value.append(character)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }

    /// Version 1.0, `'<f4'`, shape `(n,)`.
    public static func encode(_ values: [Float]) -> Data {
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (\(values.count),), }".utf8)
        let unpadded = 10 + header.count + 1
        header += [UInt8](repeating: UInt8(ascii: " "), count: (64 - unpadded % 64) % 64) + [UInt8(ascii: "\n")]
        var data = Data(magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes the file atomically.
    public static func write(_ values: [Float], path: String) throws {
        do {
            try encode(values).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw NpyError(file: path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}
