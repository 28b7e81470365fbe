import Foundation

/// The run and island an island file belongs to, appended to each `island-NNNNN.bin` of a
/// checkpoint: 8 bytes `ATOLLID1`, then the seed, the FNV-1a hash of the settings the results
/// depend on (`ResultSettings`, the seed among them) and the island's index, each a little-endian
/// 64-bit integer (32 bytes in all).
///
/// The manifest's checksums already refuse a file that changed; the identity says *why*: a file
/// from another run (another seed or settings) or from another island (swapped or renamed). A
/// resume checks every island file of a checkpoint against the settings its own `run.json`
/// records before anything else, and skips a checkpoint that fails, naming both identities, for
/// the next older one. Island files written before the identity existed carry none and pass.
struct RunIdentity: Equatable, CustomStringConvertible {
    static let magic = Array("ATOLLID1".utf8)
    static let size = 32

    var seed: UInt64
    var settingsHash: UInt64
    var island: Int

    init(seed: UInt64, settingsHash: UInt64, island: Int) {
        self.seed = seed
        self.settingsHash = settingsHash
        self.island = island
    }

    /// The identity of island `island` of a run with `settings`.
    init(settings: ResultSettings, island: Int) {
        seed = settings.values["seed"].flatMap { UInt64($0) } ?? 0
        settingsHash = Self.hash(settings)
        self.island = island
    }

    /// FNV-1a of the settings as sorted `key=value` lines.
    static func hash(_ settings: ResultSettings) -> UInt64 {
        Checksum.of(Data(settings.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined().utf8))
    }

    var description: String { "seed \(seed), settings \(Checksum.hex(settingsHash)), island \(island)" }

    /// `payload` with this identity after it.
    func appended(to payload: Data) -> Data {
        var data = payload
        data.append(contentsOf: Self.magic)
        for value in [seed, settingsHash, UInt64(bitPattern: Int64(island))] {
            withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// The island file's payload and identity (`nil`: a file without one).
    static func split(_ data: Data) -> (payload: Data, identity: RunIdentity?) {
        guard data.count >= size else { return (data, nil) }
        let tail = Array(data.suffix(size))
        guard Array(tail[0..<8]) == magic else { return (data, nil) }
        func word(_ i: Int) -> UInt64 { tail[8 + 8 * i..<16 + 8 * i].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        let identity = RunIdentity(
            seed: word(0), settingsHash: word(1), island: Int(truncatingIfNeeded: Int64(bitPattern: word(2))))
        return (data.prefix(data.count - size), identity)
    }

    /// Checks every island file of the checkpoint in `folder` against the settings its
    /// `run.json` records.
    ///
    /// - Throws: `CheckpointError` naming the file, its identity and the checkpoint's.
    static func check(checkpoint folder: URL) throws {
        guard
            let state = try? RunState.decoder.decode(
                RunState.self, from: Data(contentsOf: folder.appendingPathComponent("run.json"))),
            let settings = state.settings
        else { return }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasPrefix("island-") && $0.hasSuffix(".bin")
        }.sorted()
        for name in names {
            guard let index = Int(name.dropFirst("island-".count).dropLast(".bin".count)),
                let found = split(try Data(contentsOf: folder.appendingPathComponent(name))).identity
            else { continue }
            let expected = RunIdentity(settings: settings, island: index)
            if found.seed != expected.seed || found.settingsHash != expected.settingsHash {
                throw CheckpointError(
                    "\(name) belongs to another run (\(found)); this checkpoint's run.json is \(expected)")
            }
            if found.island != index {
                throw CheckpointError(
                    "\(name) holds island \(found.island) of this run, not island \(index) (swapped or renamed)")
            }
        }
    }
}
