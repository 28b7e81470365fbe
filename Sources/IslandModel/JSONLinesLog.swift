import Foundation

/// An append-only file of JSON lines (`metrics.jsonl`, `meta.jsonl`): one object per line, keys
/// sorted, so equal records give equal bytes.
///
/// A checkpoint stores the log's `byteCount`; a resume truncates the log back to it, so the lines a
/// killed run wrote after its last checkpoint are replaced by the resumed run's, and the finished
/// file equals an uninterrupted run's.
public final class JSONLinesLog {
    public let url: URL
    private let handle: FileHandle
    private let encoder: JSONEncoder

    /// Opens (creating if needed) `url` for appending.
    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CheckpointError("cannot create \(url.path)")
            }
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    deinit { try? handle.close() }

    /// Appends one record as a line.
    public func append<T: Encodable>(_ record: T) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }

    /// Bytes written so far (the value a checkpoint records).
    public var byteCount: UInt64 {
        get throws { try handle.offset() }
    }

    /// Cuts the file back to `byteCount` bytes and continues writing from there.
    public func truncate(toByteCount byteCount: UInt64) throws {
        try handle.truncate(atOffset: byteCount)
        try handle.seekToEnd()
    }

    /// Flushes what was written to the disk.
    public func synchronize() throws {
        try handle.synchronize()
    }
}
