import Foundation
import Networks

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
        do {
            try handle.write(contentsOf: line)
        } catch {
            throw CheckpointError("cannot write \(url.path): \(FileErrorReason.of(error))")
        }
    }

    /// Bytes written so far (the value a checkpoint records).
    public var byteCount: UInt64 {
        get throws { try handle.offset() }
    }

    /// Cuts the file back to `byteCount` bytes and continues writing from there.
    ///
    /// - Throws: `CheckpointError` if the file holds fewer bytes (it is never padded).
    public func truncate(toByteCount byteCount: UInt64) throws {
        let size = try handle.seekToEnd()
        guard size >= byteCount else {
            throw CheckpointError("\(url.path) has \(size) bytes, fewer than the \(byteCount) to keep")
        }
        try handle.truncate(atOffset: byteCount)
        try handle.seekToEnd()
    }

    /// Checks, without changing anything, that the file at `url` begins with `byteCount` bytes of
    /// whole lines (what a resume will keep of it).
    ///
    /// - Throws: `CheckpointError` if the file is missing, shorter, or has no line end at
    ///   `byteCount` (it was truncated, deleted or replaced).
    public static func checkPrefix(_ url: URL, byteCount: UInt64) throws {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw CheckpointError("\(url.lastPathComponent) is missing")
        }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size >= byteCount else {
            throw CheckpointError(
                "\(url.lastPathComponent) has \(size) bytes, fewer than the \(byteCount) written up to the checkpoint (truncated or replaced)"
            )
        }
        guard byteCount > 0 else { return }
        try handle.seek(toOffset: byteCount - 1)
        guard try handle.read(upToCount: 1) == Data([0x0A]) else {
            throw CheckpointError(
                "\(url.lastPathComponent) has no line end at byte \(byteCount), where the checkpoint's part of it ends (edited or replaced)"
            )
        }
    }

    /// Flushes what was written to the disk.
    public func synchronize() throws {
        do {
            try handle.synchronize()
        } catch {
            throw CheckpointError("cannot write \(url.path): \(FileErrorReason.of(error))")
        }
    }
}
