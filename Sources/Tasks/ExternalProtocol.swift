/// The binary protocol between Atoll and an external evaluator process (docs/external-protocol.md).
///
/// All integers are little-endian, all reals IEEE-754 float32 little-endian. Atoll writes to the
/// child's stdin and reads its stdout; the child's stderr is passed through to Atoll's.
///
///     Atoll → child, once:  header
///         magic        8 bytes  "ATOLLEV1"
///         version      u32      1
///         parameters   u32      n, the genome length
///         specLength   u32      then specLength bytes: the network spec as UTF-8 JSON
///         tensors      u32      then per tensor:
///             nameLength u32, name (UTF-8), rank u32, rank × u32 dims, offset u32
///     child → Atoll, once:  acknowledgement
///         magic        8 bytes  "ATOLLEV1"
///         version      u32      1
///     Atoll → child, per batch:
///         count        u32      P ≥ 1
///         generation   u32
///         seed         u64
///         genomes      P × n float32, genome after genome
///     child → Atoll, per batch:
///         count        u32      must equal P
///         fitness      P float32, higher is better
///
/// Atoll ends the session by closing the child's stdin; the child should then exit.
public enum ExternalProtocol {
    /// The 8-byte magic both sides send first.
    public static let magic: [UInt8] = Array("ATOLLEV1".utf8)
    /// The protocol version this build speaks.
    public static let version: UInt32 = 1

    /// One tensor of the genome: name, shape and offset (in floats) in the flat genome.
    public struct TensorEntry: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var offset: Int

        public init(name: String, shape: [Int], offset: Int) {
            self.name = name
            self.shape = shape
            self.offset = offset
        }
    }

    /// The header bytes Atoll sends first.
    public static func header(parameterCount: Int, specJSON: String, tensors: [TensorEntry]) -> [UInt8] {
        var bytes = magic
        append(version, to: &bytes)
        append(UInt32(parameterCount), to: &bytes)
        let spec = Array(specJSON.utf8)
        append(UInt32(spec.count), to: &bytes)
        bytes += spec
        append(UInt32(tensors.count), to: &bytes)
        for tensor in tensors {
            let name = Array(tensor.name.utf8)
            append(UInt32(name.count), to: &bytes)
            bytes += name
            append(UInt32(tensor.shape.count), to: &bytes)
            for d in tensor.shape { append(UInt32(d), to: &bytes) }
            append(UInt32(tensor.offset), to: &bytes)
        }
        return bytes
    }

    /// The bytes of one batch request: count, generation, seed (the genomes follow separately).
    public static func batchPrefix(count: Int, generation: Int, seed: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        append(UInt32(count), to: &bytes)
        append(UInt32(truncatingIfNeeded: generation), to: &bytes)
        append(seed, to: &bytes)
        return bytes
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * i) }
        return value
    }
}
