import CZlib
import Foundation

/// Decompression of gzip (RFC 1952) and zlib (RFC 1950) data with the system's zlib.
///
/// Foundation on Linux has no gzip API, so the datasets Atoll ships compressed (`digits.csv.gz`) are
/// inflated here through zlib's streaming `inflate`, with `windowBits = 15 + 32` so zlib detects
/// the gzip or zlib wrapper from the header.
public enum Gzip {
    /// Errors from a corrupt or truncated compressed stream.
    public enum Error: Swift.Error, CustomStringConvertible {
        case corrupt(String, code: Int32)
        case truncated

        public var description: String {
            switch self {
            case .corrupt(let message, let code): "gzip: corrupt data (zlib error \(code): \(message))"
            case .truncated: "gzip: the compressed data ends before the end of the stream"
            }
        }
    }

    /// Whether `data` starts with the gzip magic bytes `1f 8b`.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// The decompressed bytes of one gzip or zlib stream.
    ///
    /// - Throws: `Gzip.Error` if zlib reports corrupt data or the input ends early.
    public static func decompress(_ data: Data) throws -> Data {
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Error.corrupt("inflateInit2 failed", code: status) }
        defer { inflateEnd(&stream) }

        var output = Data()
        let chunkSize = 1 << 16
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        let input = [UInt8](data)
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(chunkSize)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunkSize - Int(stream.avail_out)
                }
                switch status {
                case Z_OK, Z_STREAM_END:
                    output.append(contentsOf: chunk[0..<produced])
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw Error.truncated
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "unknown"
                    throw Error.corrupt(message, code: status)
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
