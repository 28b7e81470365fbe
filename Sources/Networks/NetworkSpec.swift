import Foundation
import Yams

/// An element-wise or per-sample activation, named as in the YAML spec.
///
/// `softmax` and `log_softmax` act on the feature axis of each sample (PyTorch's `dim=1` for a
/// `[B, F]` batch); the others act element-wise. `gelu` is the exact form
/// `x·Φ(x) = ½·x·(1 + erf(x/√2))` (PyTorch's `nn.GELU()` default, Hendrycks & Gimpel 2016).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case relu, tanh, sigmoid, gelu, softmax
    case logSoftmax = "log_softmax"

    /// Whether the activation acts on each value alone (so it may be applied to any tensor shape).
    public var isElementwise: Bool { self != .softmax && self != .logSoftmax }
}

/// One module of a sequential network, numbered like PyTorch's `nn.Sequential` children.
///
/// YAML forms: `{linear: 32}`, `{linear: {out: 32, bias: false}}`,
/// `{conv2d: {out_channels: 8, kernel: 3, stride: 1, padding: 1}}` (stride defaults to 1, padding
/// to 0), `{maxpool2d: {kernel_size: 2, stride: 2}}` or `{maxpool2d: 2}` (PyTorch's
/// `nn.MaxPool2d`; stride defaults to kernel_size), `flatten`, and the activation names `relu`,
/// `tanh`, `sigmoid`, `gelu`, `softmax`, `log_softmax` as plain strings.
public enum LayerSpec: Codable, Equatable, Sendable {
    case linear(out: Int, bias: Bool)
    case conv2d(outChannels: Int, kernel: Int, stride: Int, padding: Int)
    /// The largest value of each `kernel × kernel` window, windows `stride` apart, per channel
    /// (no padding, PyTorch's `ceil_mode=False`).
    case maxPool2d(kernel: Int, stride: Int)
    case flatten
    case activation(Activation)

    /// Whether the layer owns parameters (a weight and possibly a bias).
    public var hasParameters: Bool {
        switch self {
        case .linear, .conv2d: return true
        case .maxPool2d, .flatten, .activation: return false
        }
    }

    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
            if name == "flatten" {
                self = .flatten
            } else if let activation = Activation(rawValue: name) {
                self = .activation(activation)
            } else {
                throw NetworkSpecError.invalid(
                    "unknown layer '\(name)' at \(Self.path(decoder)); expected flatten, "
                        + Activation.allCases.map(\.rawValue).joined(separator: ", ")
                        + ", {linear: …}, {conv2d: …} or {maxpool2d: …}")
            }
            return
        }
        let container = try decoder.container(keyedBy: AnyKey.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw NetworkSpecError.invalid(
                "layer at \(Self.path(decoder)) must have exactly one key (linear, conv2d or maxpool2d), found "
                    + "[\(container.allKeys.map(\.stringValue).joined(separator: ", "))]")
        }
        switch key.stringValue {
        case "linear":
            if let out = try? container.decode(Int.self, forKey: key) {
                self = .linear(out: out, bias: true)
            } else {
                let fields = try container.nestedContainer(keyedBy: AnyKey.self, forKey: key)
                try Self.rejectUnknownKeys(fields, allowed: ["out", "bias"], layer: "linear", decoder: decoder)
                self = .linear(
                    out: try fields.decode(Int.self, forKey: AnyKey("out")),
                    bias: try fields.decodeIfPresent(Bool.self, forKey: AnyKey("bias")) ?? true)
            }
        case "conv2d":
            let fields = try container.nestedContainer(keyedBy: AnyKey.self, forKey: key)
            try Self.rejectUnknownKeys(
                fields, allowed: ["out_channels", "kernel", "stride", "padding"], layer: "conv2d", decoder: decoder)
            self = .conv2d(
                outChannels: try fields.decode(Int.self, forKey: AnyKey("out_channels")),
                kernel: try fields.decode(Int.self, forKey: AnyKey("kernel")),
                stride: try fields.decodeIfPresent(Int.self, forKey: AnyKey("stride")) ?? 1,
                padding: try fields.decodeIfPresent(Int.self, forKey: AnyKey("padding")) ?? 0)
        case "maxpool2d":
            if let kernel = try? container.decode(Int.self, forKey: key) {
                self = .maxPool2d(kernel: kernel, stride: kernel)
            } else {
                let fields = try container.nestedContainer(keyedBy: AnyKey.self, forKey: key)
                try Self.rejectUnknownKeys(
                    fields, allowed: ["kernel_size", "stride"], layer: "maxpool2d", decoder: decoder)
                let kernel = try fields.decode(Int.self, forKey: AnyKey("kernel_size"))
                self = .maxPool2d(
                    kernel: kernel, stride: try fields.decodeIfPresent(Int.self, forKey: AnyKey("stride")) ?? kernel)
            }
        default:
            throw NetworkSpecError.invalid(
                "unknown layer '\(key.stringValue)' at \(Self.path(decoder)); expected linear, conv2d or maxpool2d")
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .flatten:
            var single = encoder.singleValueContainer()
            try single.encode("flatten")
        case .activation(let activation):
            var single = encoder.singleValueContainer()
            try single.encode(activation.rawValue)
        case .linear(let out, let bias):
            var container = encoder.container(keyedBy: AnyKey.self)
            if bias {
                try container.encode(out, forKey: AnyKey("linear"))
            } else {
                var fields = container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("linear"))
                try fields.encode(out, forKey: AnyKey("out"))
                try fields.encode(false, forKey: AnyKey("bias"))
            }
        case .conv2d(let outChannels, let kernel, let stride, let padding):
            var container = encoder.container(keyedBy: AnyKey.self)
            var fields = container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("conv2d"))
            try fields.encode(outChannels, forKey: AnyKey("out_channels"))
            try fields.encode(kernel, forKey: AnyKey("kernel"))
            try fields.encode(stride, forKey: AnyKey("stride"))
            try fields.encode(padding, forKey: AnyKey("padding"))
        case .maxPool2d(let kernel, let stride):
            var container = encoder.container(keyedBy: AnyKey.self)
            var fields = container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("maxpool2d"))
            try fields.encode(kernel, forKey: AnyKey("kernel_size"))
            try fields.encode(stride, forKey: AnyKey("stride"))
        }
    }

    private static func path(_ decoder: Decoder) -> String {
        let parts = decoder.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return parts.isEmpty ? "top level" : parts.joined(separator: ".")
    }

    private static func rejectUnknownKeys(
        _ container: KeyedDecodingContainer<AnyKey>, allowed: Set<String>, layer: String, decoder: Decoder
    ) throws {
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw NetworkSpecError.invalid(
                "unknown key '\(key.stringValue)' in \(layer) at \(path(decoder)); expected "
                    + allowed.sorted().joined(separator: ", "))
        }
    }
}

/// A sequential network: an input shape and a list of layers, as PyTorch's `nn.Sequential`.
///
/// ```yaml
/// input: [1, 8, 8]          # [features] or [channels, height, width]
/// layers:
///   - conv2d: {out_channels: 4, kernel: 3, stride: 1, padding: 1}
///   - relu
///   - flatten
///   - linear: 10
///   - log_softmax
/// ```
/// A spec is checked when loaded: every layer must accept the shape its predecessor produces.
public struct NetworkSpec: Codable, Equatable, Sendable {
    /// `[features]` or `[channels, height, width]` of one sample.
    public var input: [Int]
    /// The layers in order; a layer's index is its name prefix in the parameter layout.
    public var layers: [LayerSpec]

    public init(input: [Int], layers: [LayerSpec]) {
        self.input = input
        self.layers = layers
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys where key.stringValue != "input" && key.stringValue != "layers" {
            throw NetworkSpecError.invalid("unknown key '\(key.stringValue)' in network spec; expected input, layers")
        }
        input = try container.decode([Int].self, forKey: AnyKey("input"))
        layers = try container.decode([LayerSpec].self, forKey: AnyKey("layers"))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(input, forKey: AnyKey("input"))
        try container.encode(layers, forKey: AnyKey("layers"))
    }

    /// A multilayer perceptron `sizes[0] → sizes[1] → … → sizes.last`, with `activation` between
    /// consecutive linear layers and none after the last.
    public static func mlp(_ sizes: [Int], activation: Activation = .relu) -> NetworkSpec {
        var layers: [LayerSpec] = []
        for index in 1..<max(sizes.count, 1) {
            if index > 1 { layers.append(.activation(activation)) }
            layers.append(.linear(out: sizes[index], bias: true))
        }
        return NetworkSpec(input: Array(sizes.prefix(1)), layers: layers)
    }

    /// Reads a spec from a YAML or JSON file, or the shorthand `mlp:64-32-10[:activation]`.
    ///
    /// - Throws: `NetworkSpecError` naming the file and what is wrong.
    public static func load(path: String) throws -> NetworkSpec {
        if path.hasPrefix("mlp:") { return try parse(path) }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw NetworkSpecError.invalid("cannot read network spec file '\(path)': \(FileErrorReason.of(error))")
        }
        do {
            return try parse(text)
        } catch let error as NetworkSpecError {
            throw NetworkSpecError.invalid("\(path): \(error.message)")
        }
    }

    /// Parses YAML or JSON text, or the shorthand `mlp:64-32-10` (ReLU between linear layers) /
    /// `mlp:64-32-10:tanh`, and checks that the layer shapes fit together.
    ///
    /// - Throws: `NetworkSpecError` saying which field or layer is wrong.
    public static func parse(_ text: String) throws -> NetworkSpec {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let spec: NetworkSpec
        if trimmed.hasPrefix("mlp:") {
            spec = try parseShorthand(trimmed)
        } else {
            do {
                spec = try YAMLDecoder().decode(NetworkSpec.self, from: trimmed)
            } catch let error as NetworkSpecError {
                throw error
            } catch let DecodingError.keyNotFound(key, context) {
                throw NetworkSpecError.invalid(
                    "missing field '\(key.stringValue)' at \(describe(context.codingPath))")
            } catch let DecodingError.typeMismatch(type, context) {
                throw NetworkSpecError.invalid(
                    "field \(describe(context.codingPath)) should be \(type): \(context.debugDescription)")
            } catch let DecodingError.valueNotFound(type, context) {
                throw NetworkSpecError.invalid("field \(describe(context.codingPath)) should be \(type) but is empty")
            } catch {
                throw NetworkSpecError.invalid("not a valid YAML/JSON network spec: \(error)")
            }
        }
        _ = try spec.shapes()
        return spec
    }

    private static func parseShorthand(_ text: String) throws -> NetworkSpec {
        let parts = text.dropFirst("mlp:".count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else {
            throw NetworkSpecError.invalid("shorthand '\(text)' should look like mlp:64-32-10 or mlp:64-32-10:tanh")
        }
        let sizes = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard sizes.count >= 2, sizes.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw NetworkSpecError.invalid(
                "shorthand '\(text)': sizes should be at least two positive integers joined by '-', as in mlp:64-32-10")
        }
        var activation = Activation.relu
        if parts.count == 2 {
            guard let named = Activation(rawValue: String(parts[1])) else {
                throw NetworkSpecError.invalid(
                    "shorthand '\(text)': unknown activation '\(parts[1])'; expected "
                        + Activation.allCases.map(\.rawValue).joined(separator: ", "))
            }
            activation = named
        }
        return mlp(sizes.map { $0! }, activation: activation)
    }

    private static func describe(_ path: [CodingKey]) -> String {
        path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    /// The shape of one sample after each layer: `shapes()[0]` is `input`, `shapes()[i + 1]` is the
    /// output of `layers[i]`.
    ///
    /// Linear needs `[features]`, conv2d needs `[channels, height, width]` and gives
    /// `[out_channels, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1]`; maxpool2d needs
    /// `[C, H, W]` and gives `[C, ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1]`; flatten gives `[C·H·W]`;
    /// softmax and log_softmax need `[features]`.
    /// - Throws: `NetworkSpecError` naming the layer whose input shape does not fit.
    public func shapes() throws -> [[Int]] {
        guard input.count == 1 || input.count == 3, input.allSatisfy({ $0 > 0 }) else {
            throw NetworkSpecError.invalid(
                "input \(input) should be [features] or [channels, height, width] with positive sizes")
        }
        var shapes = [input]
        var shape = input
        for (index, layer) in layers.enumerated() {
            switch layer {
            case .linear(let out, _):
                guard shape.count == 1 else {
                    throw NetworkSpecError.invalid("layer \(index) (linear) gets shape \(shape); add flatten before it")
                }
                guard out > 0 else {
                    throw NetworkSpecError.invalid("layer \(index) (linear): out must be positive, got \(out)")
                }
                shape = [out]
            case .conv2d(let outChannels, let kernel, let stride, let padding):
                guard shape.count == 3 else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (conv2d) gets shape \(shape); it needs [channels, height, width]")
                }
                guard outChannels > 0, kernel > 0, stride > 0, padding >= 0 else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (conv2d): out_channels, kernel and stride must be positive and padding ≥ 0")
                }
                let (twice, overflow) = padding.multipliedReportingOverflow(by: 2)
                guard !overflow, shape[1] <= Int.max - twice, shape[2] <= Int.max - twice else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (conv2d): padding \(padding) of the input \(shape) is too large to count")
                }
                let (paddedHeight, paddedWidth) = (shape[1] + twice, shape[2] + twice)
                guard paddedHeight >= kernel, paddedWidth >= kernel else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (conv2d): kernel \(kernel) is larger than the padded input \(shape)")
                }
                shape = [outChannels, (paddedHeight - kernel) / stride + 1, (paddedWidth - kernel) / stride + 1]
            case .maxPool2d(let kernel, let stride):
                guard shape.count == 3 else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (maxpool2d) gets shape \(shape); it needs [channels, height, width]")
                }
                guard kernel > 0, stride > 0 else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (maxpool2d): kernel_size and stride must be positive")
                }
                guard shape[1] >= kernel, shape[2] >= kernel else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (maxpool2d): kernel_size \(kernel) is larger than the input \(shape)")
                }
                shape = [shape[0], (shape[1] - kernel) / stride + 1, (shape[2] - kernel) / stride + 1]
            case .flatten:
                var count = 1
                for size in shape {
                    let (product, overflow) = count.multipliedReportingOverflow(by: size)
                    guard !overflow else {
                        throw NetworkSpecError.invalid(
                            "layer \(index) (flatten): shape \(shape) has more values than an Int counts")
                    }
                    count = product
                }
                shape = [count]
            case .activation(let activation):
                guard activation.isElementwise || shape.count == 1 else {
                    throw NetworkSpecError.invalid(
                        "layer \(index) (\(activation.rawValue)) gets shape \(shape); add flatten before it")
                }
            }
            shapes.append(shape)
        }
        return shapes
    }
}

/// A coding key made from any string or index (for specs whose keys are checked by hand).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}
