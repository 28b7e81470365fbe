/// Where each parameter tensor of a network lives in its flat genome, with PyTorch's names.
///
/// Tensors follow `nn.Sequential.state_dict()` order: for each layer with parameters, in layer
/// order, `"<index>.weight"` then `"<index>.bias"`. Linear weights are `[out, in]`; conv2d weights
/// `[out_channels, in_channels, kernel, kernel]`; biases `[out]`. Tensor values are row-major
/// (C order), so `genome[offset ..< offset + count]` is exactly PyTorch's `tensor.flatten()`.
/// This is the counterpart of PyGAD's `model_weights_as_vector` / `model_weights_as_dict`.
public struct ParameterLayout: Sendable {
    /// One named parameter tensor: a contiguous slice of the genome.
    public struct Tensor: Sendable {
        /// PyTorch's state-dict key, `"0.weight"`, `"0.bias"`, `"2.weight"`, …
        public let name: String
        public let shape: [Int]
        /// Index of the first value in the genome.
        public let offset: Int
        /// Index of the owning module in the `nn.Sequential` (activations and flatten count).
        public let layerIndex: Int
        public let isBias: Bool
        /// Number of values, the product of `shape`.
        public var count: Int { shape.reduce(1, *) }
    }

    public let tensors: [Tensor]

    /// Length of the genome: the sum of all tensors' counts.
    public var parameterCount: Int { tensors.last.map { $0.offset + $0.count } ?? 0 }

    /// Most values a tensor, an activation or a whole genome may hold: BLAS indexes with 32-bit
    /// integers.
    public static let maxCount = Int(Int32.max)

    /// The layout of `spec`'s parameters.
    ///
    /// - Throws: `NetworkSpecError.invalid` if the spec's shapes do not chain, or a tensor, an
    ///   activation or the genome would hold more than `maxCount` values.
    public init(spec: NetworkSpec) throws {
        let shapes = try spec.shapes()
        for (index, shape) in shapes.enumerated() where Self.checkedCount(shape) == nil {
            throw NetworkSpecError.invalid(
                "\(index == 0 ? "the input" : "layer \(index - 1)'s output") \(shape) holds more than "
                    + "\(Self.maxCount) values (2^31 − 1, what BLAS can index)")
        }
        var tensors: [Tensor] = []
        var offset = 0
        func append(_ name: String, _ shape: [Int], _ layerIndex: Int, _ isBias: Bool) throws {
            let tensor = Tensor(name: name, shape: shape, offset: offset, layerIndex: layerIndex, isBias: isBias)
            guard let count = Self.checkedCount(shape), offset <= Self.maxCount - count else {
                throw NetworkSpecError.invalid(
                    "\(name) \(shape) takes the network past \(Self.maxCount) parameters "
                        + "(2^31 − 1, what BLAS can index)")
            }
            tensors.append(tensor)
            offset += count
        }
        for (index, layer) in spec.layers.enumerated() {
            let inShape = shapes[index]
            switch layer {
            case .linear(let out, let bias):
                try append("\(index).weight", [out, inShape[0]], index, false)
                if bias { try append("\(index).bias", [out], index, true) }
            case .conv2d(let outChannels, let kernel, _, _):
                try append("\(index).weight", [outChannels, inShape[0], kernel, kernel], index, false)
                try append("\(index).bias", [outChannels], index, true)
            case .maxPool2d, .flatten, .activation:
                break
            }
        }
        self.tensors = tensors
    }

    /// The product of `shape`, or `nil` past `maxCount` (or on overflow).
    static func checkedCount(_ shape: [Int]) -> Int? {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxCount else { return nil }
            count = product
        }
        return count
    }

    /// The tensor called `name`, if the layout has one.
    public func tensor(named name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }

    /// Splits a genome into its named tensors, in layout order.
    public func tensors(of genome: [Float]) -> [(name: String, shape: [Int], values: [Float])] {
        precondition(
            genome.count == parameterCount, "genome has \(genome.count) values, layout needs \(parameterCount)")
        return tensors.map { ($0.name, $0.shape, Array(genome[$0.offset..<$0.offset + $0.count])) }
    }

    /// Assembles a genome from named tensors; every layout tensor must be present with its shape,
    /// and no other tensor may be given.
    ///
    /// - Throws: `NetworkSpecError.layoutMismatch` naming the missing, unexpected or misshapen tensor.
    public func genome(from named: [String: (shape: [Int], values: [Float])]) throws -> [Float] {
        var genome = [Float](repeating: 0, count: parameterCount)
        for tensor in tensors {
            guard let given = named[tensor.name] else {
                throw NetworkSpecError.layoutMismatch(
                    "tensor '\(tensor.name)' with shape \(tensor.shape) is missing; given: "
                        + named.keys.sorted().joined(separator: ", "))
            }
            guard given.shape == tensor.shape else {
                throw NetworkSpecError.layoutMismatch(
                    "tensor '\(tensor.name)' has shape \(given.shape), the network spec needs \(tensor.shape)")
            }
            guard given.values.count == tensor.count else {
                throw NetworkSpecError.layoutMismatch(
                    "tensor '\(tensor.name)' has \(given.values.count) values for shape \(tensor.shape)")
            }
            genome.replaceSubrange(tensor.offset..<tensor.offset + tensor.count, with: given.values)
        }
        let expected = Set(tensors.map(\.name))
        if let extra = named.keys.sorted().first(where: { !expected.contains($0) }) {
            throw NetworkSpecError.layoutMismatch(
                "tensor '\(extra)' is not a parameter of this network; expected "
                    + tensors.map(\.name).joined(separator: ", "))
        }
        return genome
    }
}
