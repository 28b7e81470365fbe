import Collectives
import Foundation
import Networks

/// Checkpoints of a run, in `RUN/checkpoints/GGGGGGGG/` (G = generation, eight digits).
///
/// A checkpoint is written so that a crash at any moment leaves the previous one intact:
/// every rank writes its own files into `checkpoints/.partial-GGGGGGGG/`, rank 0 gathers each file's
/// size and FNV-1a checksum into `manifest.json` (written last), renames the folder to its final name,
/// and only then deletes checkpoints older than the previous one. Reading walks the checkpoints from
/// the newest, checks every file's size and checksum against the manifest, and skips (with a warning
/// naming the folder and the fault) any that is incomplete or corrupt.
public struct CheckpointStore: Sendable {
    /// `manifest.json`: what a complete checkpoint holds.
    public struct Manifest: Codable, Equatable, Sendable {
        public struct File: Codable, Equatable, Sendable {
            public var name: String
            public var bytes: Int
            public var fnv1a64: String
        }

        public var format: String
        public var version: Int
        public var generation: Int
        public var files: [File]
    }

    /// What one rank wrote, or why it could not.
    private struct RankReport: Codable {
        var files: [Manifest.File]
        var failure: String?
    }

    /// A checkpoint that passed every check.
    public struct Checkpoint: Sendable {
        public let generation: Int
        public let directory: URL
        public let manifest: Manifest

        /// The contents of file `name`.
        public func read(_ name: String) throws -> Data {
            guard manifest.files.contains(where: { $0.name == name }) else {
                throw CheckpointError("checkpoint \(directory.path) has no file \(name)")
            }
            return try Data(contentsOf: directory.appendingPathComponent(name))
        }
    }

    public static let format = "atoll-checkpoint"
    public static let version = 1
    /// Complete checkpoints kept on disk: the newest and the one before it.
    public static let kept = 2

    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    static func folderName(_ generation: Int) -> String {
        let digits = String(generation)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Writes a checkpoint collectively: every rank calls with its own `files` (names unique across
    /// ranks, e.g. one per island it hosts).
    ///
    /// - Throws: `CheckpointError` for a file name used by two ranks or not a plain name; file
    ///   system and communicator errors.
    public func write(generation: Int, files: [String: Data], communicator: any Communicator) throws {
        let partial = directory.appendingPathComponent(".partial-" + Self.folderName(generation))
        let fm = FileManager.default
        if communicator.rank == 0 {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            if fm.fileExists(atPath: partial.path) { try fm.removeItem(at: partial) }
            try fm.createDirectory(at: partial, withIntermediateDirectories: true)
        }
        try communicator.barrier()

        // Each rank writes its files; a local failure is shared instead of leaving peers waiting.
        var report = RankReport(files: [], failure: nil)
        do {
            for name in files.keys.sorted() {
                guard !name.isEmpty, !name.contains("/"), name != "manifest.json", !name.hasPrefix(".") else {
                    throw CheckpointError("checkpoint file name '\(name)' is not allowed")
                }
                let data = files[name]!
                try Self.writeDurably(data, to: partial.appendingPathComponent(name))
                report.files.append(.init(name: name, bytes: data.count, fnv1a64: Checksum.hex(Checksum.of(data))))
            }
        } catch {
            report.failure = "rank \(communicator.rank): \(error)"
        }
        let gathered = try communicator.allgatherStrings(
            String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        )
        .map { try JSONDecoder().decode(RankReport.self, from: Data($0.utf8)) }
        if let failure = gathered.compactMap(\.failure).first { throw CheckpointError(failure) }

        // Rank 0 completes the checkpoint; every rank learns whether it succeeded.
        var failure = ""
        if communicator.rank == 0 {
            do {
                try finish(partial: partial, generation: generation, gathered: gathered)
            } catch {
                failure = "\(error)"
            }
        }
        let failures = try communicator.allgatherStrings(failure).filter { !$0.isEmpty }
        if let first = failures.first { throw CheckpointError(first) }
    }

    /// Rank 0's part: the manifest, the rename, the pruning.
    private func finish(partial: URL, generation: Int, gathered: [RankReport]) throws {
        let fm = FileManager.default
        let all = gathered.flatMap(\.files)
        let names = all.map(\.name)
        guard Set(names).count == names.count else {
            try? fm.removeItem(at: partial)
            throw CheckpointError("two ranks wrote a checkpoint file with the same name: \(names.sorted())")
        }
        let manifest = Manifest(
            format: Self.format, version: Self.version, generation: generation, files: all.sorted { $0.name < $1.name })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Self.writeDurably(try encoder.encode(manifest), to: partial.appendingPathComponent("manifest.json"))
        let final = directory.appendingPathComponent(Self.folderName(generation))
        if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
        try fm.moveItem(at: partial, to: final)
        try prune()
    }

    /// Deletes complete checkpoints beyond the newest `kept`, and stale partial folders.
    private func prune() throws {
        let fm = FileManager.default
        let generations = completeGenerations()
        for g in generations.dropFirst(Self.kept) {
            try fm.removeItem(at: directory.appendingPathComponent(Self.folderName(g)))
        }
        let newest = generations.first ?? Int.min
        for name in try fm.contentsOfDirectory(atPath: directory.path) where name.hasPrefix(".partial-") {
            if let g = Int(name.dropFirst(".partial-".count)), g <= newest {
                try fm.removeItem(at: directory.appendingPathComponent(name))
            }
        }
    }

    /// Generations with a final (renamed) folder, newest first.
    public func completeGenerations() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.count == 8 && $0.allSatisfy(\.isNumber) }.compactMap { Int($0) }.sorted(by: >)
    }

    /// The newest checkpoint whose manifest and files all check out, or `nil` if there is none.
    ///
    /// - Parameters:
    ///   - warn: told about every checkpoint that is skipped, and why.
    ///   - check: a check of the folder that runs first (the island files' `RunIdentity`).
    public func newestValid(warn: (String) -> Void, check: (URL) throws -> Void = { _ in }) -> Checkpoint? {
        for generation in completeGenerations() {
            let folder = directory.appendingPathComponent(Self.folderName(generation))
            do {
                try check(folder)
                return try validate(folder, generation: generation)
            } catch {
                warn("skipping checkpoint \(folder.path): \(error)")
            }
        }
        return nil
    }

    /// Checks a checkpoint folder against its manifest.
    public func validate(_ folder: URL, generation: Int) throws -> Checkpoint {
        let manifestURL = folder.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: manifestURL) else { throw CheckpointError("manifest.json is missing") }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw CheckpointError("manifest.json is not a valid manifest (\(error))")
        }
        guard manifest.format == Self.format, manifest.version == Self.version else {
            throw CheckpointError(
                "manifest.json is \(manifest.format) version \(manifest.version), expected \(Self.format) version \(Self.version)"
            )
        }
        guard manifest.generation == generation else {
            throw CheckpointError("manifest.json says generation \(manifest.generation), the folder \(generation)")
        }
        for file in manifest.files {
            let url = folder.appendingPathComponent(file.name)
            guard let contents = try? Data(contentsOf: url) else { throw CheckpointError("\(file.name) is missing") }
            guard contents.count == file.bytes else {
                throw CheckpointError(
                    "\(file.name) has \(contents.count) bytes, the manifest says \(file.bytes) (truncated?)")
            }
            let checksum = Checksum.hex(Checksum.of(contents))
            guard checksum == file.fnv1a64 else {
                throw CheckpointError(
                    "\(file.name) has checksum \(checksum), the manifest says \(file.fnv1a64) (corrupt)")
            }
        }
        return Checkpoint(generation: generation, directory: folder, manifest: manifest)
    }

    /// Writes `data` to `url` and flushes it to the disk before returning.
    static func writeDurably(_ data: Data, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CheckpointError("cannot create \(url.path): \(String(cString: strerror(errno)).lowercased())")
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw CheckpointError("cannot write \(url.path): \(FileErrorReason.of(error))")
        }
    }

    /// Checks that checkpoints can be written into `directory` (creating it), by creating and
    /// removing a file there: a read-only folder or file system is found at the start, not after
    /// a whole checkpoint interval.
    public func checkWritable() throws {
        let probe = directory.appendingPathComponent(".probe-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.writeDurably(Data(), to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw CheckpointError(
                "checkpoints cannot be written to \(directory.path): \(error is CheckpointError ? "\(error)" : FileErrorReason.of(error))"
            )
        }
    }
}

/// A checkpoint that cannot be written or read, with the reason.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
