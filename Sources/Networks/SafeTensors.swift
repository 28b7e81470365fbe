import Foundation

/// A set of named tensors in the safetensors format (Hugging Face), read as float32.
///
/// The format (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian
/// header length `N`; `N` bytes of UTF-8 JSON mapping each tensor name to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` plus an optional `"__metadata__"` map of
/// strings to strings; then the raw little-endian data, offsets counted from its first byte.
/// Tensors must tile the data section exactly: sorted by offset, each begins where the previous
/// ends and the last ends at the end of the file. Reading accepts F32, F64, F16 and BF16 and
/// converts to float32 (F64 rounds to nearest, as numpy's `astype(float32)`); writing produces F32
/// and pads the header with spaces to a multiple of 8 bytes, as the reference Rust implementation.
public struct SafeTensors: Sendable {
    /// Element types Atoll reads.
    public enum DType: String, Sendable {
        case f32 = "F32"
        case f64 = "F64"
        case f16 = "F16"
        case bf16 = "BF16"

        public var byteCount: Int {
            switch self {
            case .f64: return 8
            case .f32: return 4
            case .f16, .bf16: return 2
            }
        }
    }

    /// One tensor: row-major values as float32.
    public struct Tensor: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        /// The dtype in the file it was read from; `write` always stores F32.
        public var dtype: DType

        public init(name: String, shape: [Int], values: [Float], dtype: DType = .f32) {
            self.name = name
            self.shape = shape
            self.values = values
            self.dtype = dtype
        }
    }

    /// Tensors in data order (reading) or in the order they will be written.
    public var tensors: [Tensor]
    /// The `__metadata__` strings (empty when the file has none).
    public var metadata: [String: String]

    public init(tensors: [Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }

    /// Header lengths above this are refused (the Rust implementation's limit).
    static let maximumHeaderLength = 100_000_000

    // MARK: - Reading

    /// Reads and validates a safetensors file.
    ///
    /// - Throws: `SafeTensorsError` naming the file and, where it applies, the tensor.
    public static func read(path: String) throws -> SafeTensors {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SafeTensorsError(.io, "cannot read: \(error.localizedDescription)", file: path)
        }
        do {
            return try decode(data)
        } catch var error as SafeTensorsError {
            error.file = path
            throw error
        }
    }

    /// Decodes and validates the bytes of a safetensors file.
    public static func decode(_ data: Data) throws -> SafeTensors {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else {
            throw SafeTensorsError(.headerLength, "file has \(bytes.count) bytes, fewer than the 8-byte header length")
        }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw SafeTensorsError(
                .headerLength, "header length \(headerLength) exceeds the limit of \(maximumHeaderLength) bytes")
        }
        let headerEnd = 8 + Int(headerLength)
        guard headerEnd <= bytes.count else {
            throw SafeTensorsError(
                .headerLength, "header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
        }
        let headerBytes = Data(bytes[8..<headerEnd])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw SafeTensorsError(.invalidJSON, "header does not start with '{'")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafeTensorsError(.invalidJSON, "header is not valid JSON: \(error.localizedDescription)")
        }
        guard let header = json as? [String: Any] else {
            throw SafeTensorsError(.invalidJSON, "header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let map = raw as? [String: Any] else {
                throw SafeTensorsError(.invalidHeader, "__metadata__ must be an object of strings")
            }
            for (key, value) in map {
                guard let text = value as? String else {
                    throw SafeTensorsError(.invalidHeader, "__metadata__ value for '\(key)' is not a string")
                }
                metadata[key] = text
            }
        }

        struct Entry {
            let name: String
            let dtype: DType
            let shape: [Int]
            let begin: Int
            let end: Int
        }
        var entries: [Entry] = []
        for (name, raw) in header where name != "__metadata__" {
            guard let info = raw as? [String: Any] else {
                throw SafeTensorsError(.invalidHeader, "entry for tensor '\(name)' is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw SafeTensorsError(.invalidHeader, "tensor '\(name)' has no string field 'dtype'")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw SafeTensorsError(
                    .unsupportedDType, "tensor '\(name)' has dtype \(dtypeName); Atoll reads F32, F64, F16 and BF16")
            }
            guard let shape = integers(info["shape"]) else {
                throw SafeTensorsError(.invalidHeader, "tensor '\(name)' has no 'shape' array of non-negative integers")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw SafeTensorsError(
                    .invalidHeader, "tensor '\(name)' has no 'data_offsets' pair of non-negative integers")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }

        let dataLength = bytes.count - headerEnd
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        var previous: String?
        var tensors: [Tensor] = []
        for entry in entries {
            guard entry.end >= entry.begin else {
                throw SafeTensorsError(
                    .invalidOffsets,
                    "tensor '\(entry.name)' has data_offsets [\(entry.begin), \(entry.end)] that end before they begin")
            }
            guard entry.end <= dataLength else {
                throw SafeTensorsError(
                    .invalidOffsets,
                    "tensor '\(entry.name)' has data_offsets [\(entry.begin), \(entry.end)] past the end of the data (\(dataLength) bytes)"
                )
            }
            if entry.begin < position {
                throw SafeTensorsError(
                    .invalidOffsets,
                    "tensor '\(entry.name)' at data_offsets [\(entry.begin), \(entry.end)] overlaps tensor '\(previous ?? "")', which ends at \(position)"
                )
            }
            if entry.begin > position {
                throw SafeTensorsError(
                    .invalidOffsets,
                    "bytes \(position)..<\(entry.begin) before tensor '\(entry.name)' belong to no tensor")
            }
            var elementCount = 1
            for size in entry.shape {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
                guard !overflow else {
                    throw SafeTensorsError(.sizeMismatch, "tensor '\(entry.name)' shape \(entry.shape) overflows")
                }
                elementCount = product
            }
            let byteCount = entry.end - entry.begin
            guard elementCount.multipliedReportingOverflow(by: entry.dtype.byteCount) == (byteCount, false) else {
                throw SafeTensorsError(
                    .sizeMismatch,
                    "tensor '\(entry.name)' is \(entry.dtype.rawValue) with shape \(entry.shape) (\(elementCount) values × \(entry.dtype.byteCount) bytes) but its data_offsets span \(byteCount) bytes"
                )
            }
            let values = convert(bytes, from: headerEnd + entry.begin, count: elementCount, dtype: entry.dtype)
            tensors.append(Tensor(name: entry.name, shape: entry.shape, values: values, dtype: entry.dtype))
            position = entry.end
            previous = entry.name
        }
        guard position == dataLength else {
            throw SafeTensorsError(
                .invalidOffsets, "the data section has \(dataLength) bytes but the tensors cover only \(position)")
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// A JSON array of non-negative integers, or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in array {
            guard let number = element as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double >= 0, double.rounded() == double, double < 0x1p62 else { return nil }
            result.append(number.intValue)
        }
        return result
    }

    private static func convert(_ bytes: [UInt8], from start: Int, count: Int, dtype: DType) -> [Float] {
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            switch dtype {
            case .f32:
                return (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            case .f64:
                return (0..<count).map {
                    Float(
                        Double(
                            bitPattern: UInt64(
                                littleEndian: base.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))))
                }
            case .f16:
                return (0..<count).map {
                    halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))
                }
            case .bf16:
                return (0..<count).map {
                    Float(
                        bitPattern: UInt32(
                            UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16)
                }
            }
        }
    }

    /// IEEE 754 binary16 → binary32 (exact): sign, 5-bit exponent (bias 15), 10-bit fraction;
    /// exponent 0 is zero or subnormal `fraction·2⁻²⁴`, exponent 31 infinity or NaN.
    static func halfToFloat(_ half: UInt16) -> Float {
        let sign: Float = half & 0x8000 != 0 ? -1 : 1
        let exponent = Int(half >> 10 & 0x1F)
        let fraction = UInt32(half & 0x3FF)
        switch exponent {
        case 0:
            return sign * Float(fraction) * 0x1p-24
        case 31:
            return Float(bitPattern: UInt32(half & 0x8000) << 16 | 0x7F80_0000 | fraction << 13)
        default:
            return Float(bitPattern: UInt32(half & 0x8000) << 16 | UInt32(exponent - 15 + 127) << 23 | fraction << 13)
        }
    }

    // MARK: - Writing

    /// The bytes of the file: header with `__metadata__` (if any) first, then the tensors in
    /// order, all as F32; the header is padded with spaces so the data starts 8-byte aligned.
    ///
    /// - Throws: `SafeTensorsError` if two tensors share a name or a shape does not match its
    ///   value count.
    public func encoded() throws -> Data {
        var seen = Set<String>()
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = try metadata.keys.sorted().map { "\(try Self.quoted($0)):\(try Self.quoted(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            guard tensor.name != "__metadata__", seen.insert(tensor.name).inserted else {
                throw SafeTensorsError(.invalidHeader, "tensor name '\(tensor.name)' is used twice or reserved")
            }
            guard tensor.shape.reduce(1, *) == tensor.values.count, tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError(
                    .sizeMismatch, "tensor '\(tensor.name)' has shape \(tensor.shape) but \(tensor.values.count) values"
                )
            }
            let end = offset + 4 * tensor.values.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\(try Self.quoted(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
            )
            offset = end
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for tensor in tensors {
            tensor.values.withUnsafeBufferPointer { values in
                for value in values {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
            }
        }
        return data
    }

    /// Writes the file atomically (a temporary file renamed into place), so a failure leaves any
    /// existing file untouched.
    public func write(path: String) throws {
        let data = try encoded()
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SafeTensorsError(.io, "cannot write: \(error.localizedDescription)", file: path)
        }
    }

    private static func quoted(_ text: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: try encoder.encode(text), as: UTF8.self)
    }

    // MARK: - Genomes

    /// The genome's tensors with PyTorch names and shapes, in layout order.
    public init(genome: [Float], layout: ParameterLayout, metadata: [String: String] = [:]) {
        self.init(
            tensors: layout.tensors(of: genome).map { Tensor(name: $0.name, shape: $0.shape, values: $0.values) },
            metadata: metadata)
    }

    /// The genome these tensors hold for `layout`.
    ///
    /// Accepts either the layout's named tensors (`0.weight`, `0.bias`, …; every one present with
    /// its shape and no other), or a single one-dimensional tensor of exactly `parameterCount`
    /// values (a flat genome saved under any name).
    /// - Throws: `SafeTensorsError` of kind `.layoutMismatch` naming the offending tensor.
    public func genome(for layout: ParameterLayout) throws -> [Float] {
        let layoutNames = Set(layout.tensors.map(\.name))
        if tensors.count == 1, let only = tensors.first, !layoutNames.contains(only.name), only.shape.count == 1 {
            guard only.shape[0] == layout.parameterCount else {
                throw SafeTensorsError(
                    .layoutMismatch,
                    "the one flat tensor '\(only.name)' has \(only.shape[0]) values, "
                        + "the network has \(layout.parameterCount) parameters (\(layout.tensors.count) tensors)")
            }
            return only.values
        }
        var named: [String: (shape: [Int], values: [Float])] = [:]
        for tensor in tensors { named[tensor.name] = (tensor.shape, tensor.values) }
        do {
            return try layout.genome(from: named)
        } catch let error as NetworkSpecError {
            throw SafeTensorsError(.layoutMismatch, error.message)
        }
    }
}
