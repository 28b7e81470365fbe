import CBLAS
import Foundation
import Kernels
import VectorKernels

/// A sequential network that runs many genomes at once: the evolved networks' forward pass.
///
/// A genome is the network's parameters as one flat float32 vector in `layout` order (PyTorch's
/// `state_dict` names and `[out, in]` layout). `forward` evaluates `P` genomes on `B` inputs each
/// with BLAS: linear layers are `cblas_sgemm` calls; convolutions are direct convolutions
/// (Network+DirectConvolution.swift) where `convolutionAlgorithm` picks them, else im2col
/// followed by one GEMM.
/// When every genome sees the same inputs, the first linear or conv2d layer of a group of genomes
/// is a single GEMM against their stacked weights, `[B × IC] · [G·OC × IC]ᵀ` (or
/// `[G·OC × IC·K·K] · columns`), which keeps BLAS busy even for narrow layers. Max pooling runs
/// per sample on the layer below's output. Samples are processed in tiles of rows so the scratch
/// stays small.
///
/// A `Network` owns reusable scratch buffers, so one instance must not be used by two threads at
/// the same time; give each thread its own. After the first call of a given size, calls allocate
/// nothing.
public final class Network {
    public let spec: NetworkSpec
    public let layout: ParameterLayout
    /// Shape of one sample before layer 0 (`shapes[0]`) and after each layer `i` (`shapes[i + 1]`).
    public let shapes: [[Int]]
    /// Number of values per sample: the product of each entry of `shapes`.
    let features: [Int]
    /// Genome offset of each layer's weight and bias, nil for layers without them.
    let weightOffsets: [Int?]
    let biasOffsets: [Int?]
    /// Index of the last linear or conv2d layer when it writes straight into the caller's outputs:
    /// nil when a maxpool2d follows it (its output is larger than the network's).
    let lastParametricLayer: Int?
    /// The first parametric layer (linear or conv2d) when it is not the last one: with shared
    /// inputs it runs as one GEMM for a whole group of genomes.
    let stackedLayer: Int?

    /// Rows (samples) per tile of the population forward pass.
    let rowsPerTile = 256
    /// Samples per tile of `forwardFeatureMajor` (tests lower it to exercise the tiling).
    var featureMajorRowsPerTile = 256
    /// Floats of one layer's activations for a tile of `forwardFeatureMajor`: genomes are taken in
    /// groups small enough that a tile of the widest layer fits (1 MB, half a 2 MB L2 cache), so it
    /// is still cached when the next layer and the loss read it; a larger tile only saves BLAS
    /// packing, which is already small at 256 samples.
    var featureMajorTileFloats = 1 << 18
    /// Floats in each of the two activation buffers of the population forward pass; the number of
    /// genomes processed together is chosen so a tile of all of them fits.
    let activationScratchFloats = 1 << 20
    /// Floats allowed in the im2col buffer (and the convolution's GEMM product); convolutions
    /// unfold as many samples at once as fit (tests lower it to exercise the chunking).
    var columnScratchFloats = 1 << 20
    /// How conv2d layers run (`automatic`: by layer shape, `ConvolutionAlgorithm.directWins`).
    /// Set it before a call, not during one.
    public var convolutionAlgorithm = ConvolutionAlgorithm.automatic
    /// The direct convolution's tile layout, nil for the plan's choice (tests force each).
    var directConvolutionLayout: DirectConvolution.Plan.Layout?

    let bufferA = ScratchBuffer<Float>()
    let bufferB = ScratchBuffer<Float>()
    let columns = ScratchBuffer<Float>()
    let product = ScratchBuffer<Float>()
    let packedWeights = ScratchBuffer<Float>()
    let packedBiases = ScratchBuffer<Float>()
    /// One sample's zero-bordered input planes for a direct convolution.
    let paddedInput = ScratchBuffer<Float>()
    /// One sample's sums of the direct convolution's flat layout.
    let directScratch = ScratchBuffer<Float>()
    /// `W₀ · X_tileᵀ` of a low-rank group's first layer and `B_pᵀ · in_p` of any of its layers
    /// (`forwardFeatureMajor(lowRank:)`).
    let anchorProduct = ScratchBuffer<Float>()
    let lowRankProduct = ScratchBuffer<Float>()
    // Training pass (see Network+Backward.swift). The tape holds, for a batch of B samples, the
    // input at offset 0 and layer i's output at `B · tapeSampleOffsets[i + 1]` (flatten shares its
    // input's slot); it is `B · tapeSampleLength` floats long.
    let tapeSampleOffsets: [Int]
    let tapeSampleLength: Int
    let tape = ScratchBuffer<Float>()
    let gradientA = ScratchBuffer<Float>()
    let gradientB = ScratchBuffer<Float>()
    let columnGradient = ScratchBuffer<Float>()
    var recordedBatchSize = 0

    public var parameterCount: Int { layout.parameterCount }
    /// Values per input sample, the product of `spec.input`.
    public var inputSize: Int { features[0] }
    /// Values per output sample.
    public var outputSize: Int { features[features.count - 1] }
    /// Shape of one output sample.
    public var outputShape: [Int] { shapes[shapes.count - 1] }

    /// - Throws: `NetworkSpecError.invalid` if the spec's shapes do not chain.
    public init(spec: NetworkSpec) throws {
        self.spec = spec
        layout = try ParameterLayout(spec: spec)
        shapes = try spec.shapes()
        features = shapes.map { $0.reduce(1, *) }
        var weights = [Int?](repeating: nil, count: spec.layers.count)
        var biases = [Int?](repeating: nil, count: spec.layers.count)
        for tensor in layout.tensors {
            if tensor.isBias {
                biases[tensor.layerIndex] = tensor.offset
            } else {
                weights[tensor.layerIndex] = tensor.offset
            }
        }
        weightOffsets = weights
        biasOffsets = biases
        let lastParametric = spec.layers.lastIndex { $0.hasParameters }
        lastParametricLayer = lastParametric.flatMap { last in
            spec.layers[(last + 1)...].contains { if case .maxPool2d = $0 { true } else { false } } ? nil : last
        }
        var offsets = [0]
        var end = features[0]
        for (index, layer) in spec.layers.enumerated() {
            if case .flatten = layer {
                offsets.append(offsets[index])
            } else {
                offsets.append(end)
                end += features[index + 1]
            }
        }
        tapeSampleOffsets = offsets
        tapeSampleLength = end
        let firstParametric = spec.layers.firstIndex { $0.hasParameters }
        if let firstParametric, firstParametric != lastParametric || lastParametricLayer == nil {
            stackedLayer = firstParametric
        } else {
            stackedLayer = nil
        }
    }

    /// Fan-in of a linear or conv2d layer: `IC` or `IC·K·K`.
    func fanIn(layer index: Int) -> Int {
        switch spec.layers[index] {
        case .linear: return features[index]
        case .conv2d(_, let kernel, _, _): return shapes[index][0] * kernel * kernel
        case .maxPool2d, .flatten, .activation: return 0
        }
    }

    /// PyTorch's default initialisation of `nn.Linear` and `nn.Conv2d`.
    ///
    /// Weights: `kaiming_uniform_(a=√5)`, i.e. gain `√(2/(1+a²)) = √(1/3)`, bound
    /// `gain·√(3/fan_in) = 1/√fan_in`; biases: `U(−1/√fan_in, 1/√fan_in)`. Both are drawn with
    /// `stream` in layout order, so a seed gives the same genome everywhere (not PyTorch's
    /// numbers, which come from its own generator).
    public func initialize(_ genome: UnsafeMutableBufferPointer<Float>, stream: inout RandomStream) {
        precondition(
            genome.count == parameterCount, "genome has \(genome.count) values, network needs \(parameterCount)")
        for tensor in layout.tensors {
            let bound = Float(1 / Double(fanIn(layer: tensor.layerIndex)).squareRoot())
            let slice = UnsafeMutableBufferPointer(rebasing: genome[tensor.offset..<tensor.offset + tensor.count])
            stream.fillUniform(slice, low: -bound, high: bound)
        }
    }

    /// A genome initialised as `initialize(_:stream:)` does.
    public func initializedGenome(stream: inout RandomStream) -> [Float] {
        var genome = [Float](repeating: 0, count: parameterCount)
        genome.withUnsafeMutableBufferPointer { initialize($0, stream: &stream) }
        return genome
    }

    /// One genome's rows inside an activation buffer: sample `b` of genome `p` starts at
    /// `base + p·genomeStride + b·rowStride` (a `genomeStride` of 0 means all genomes share it).
    struct RowView {
        var base: UnsafeMutablePointer<Float>
        var genomeStride: Int
        var rowStride: Int

        func row(genome p: Int, sample b: Int) -> UnsafeMutablePointer<Float> {
            base + p * genomeStride + b * rowStride
        }
    }

    /// Runs `populationSize` genomes on a batch of inputs.
    ///
    /// genomes is (P, parameterCount); inputs is (B, inputSize) when `sharedInputs` (every genome
    /// sees the same batch, as for a dataset) and (P, B, inputSize) otherwise (genome p's own
    /// inputs, as for control policies run in lock-step); outputs is (P, B, outputSize).
    public func forward(
        genomes: UnsafeBufferPointer<Float>, populationSize: Int,
        inputs: UnsafeBufferPointer<Float>, batchSize: Int, sharedInputs: Bool,
        outputs: UnsafeMutableBufferPointer<Float>
    ) {
        let P = populationSize
        let B = batchSize
        let n = parameterCount
        let inSize = inputSize
        let outSize = outputSize
        precondition(genomes.count >= P * n, "genomes hold \(genomes.count) values, need P·n = \(P * n)")
        precondition(inputs.count >= (sharedInputs ? 1 : P) * B * inSize, "inputs too short for the batch")
        precondition(outputs.count >= P * B * outSize, "outputs too short: need P·B·outputSize = \(P * B * outSize)")
        guard P > 0, B > 0 else { return }

        let maxFeatures = features.max()!
        let rows = min(B, rowsPerTile)
        let group = max(1, min(P, activationScratchFloats / (rows * maxFeatures)))
        bufferA.reserve(rows * group * maxFeatures)
        bufferB.reserve(rows * group * maxFeatures)
        reserveConvolutionScratch(rows: rows, group: group)
        if let stacked = stackedLayer {
            let outChannels = shapes[stacked + 1][0]
            packedWeights.reserve(group * outChannels * fanIn(layer: stacked))
            packedBiases.reserve(group * outChannels)
        }

        let genomeBase = genomes.baseAddress!
        let inputBase = UnsafeMutablePointer(mutating: inputs.baseAddress!)
        for g0 in stride(from: 0, to: P, by: group) {
            let g = min(group, P - g0)
            let groupGenomes = genomeBase + g0 * n
            let stacked = sharedInputs && g > 1 ? stackedLayer : nil
            if let stacked {
                // The group's weights one above the other, [g·OC × IC] (IC·K·K for a convolution),
                // and its biases side by side.
                let OC = shapes[stacked + 1][0]
                let IC = fanIn(layer: stacked)
                for p in 0..<g {
                    let genome = groupGenomes + p * n
                    (packedWeights.pointer + p * OC * IC).update(from: genome + weightOffsets[stacked]!, count: OC * IC)
                    if let biasOffset = biasOffsets[stacked] {
                        (packedBiases.pointer + p * OC).update(from: genome + biasOffset, count: OC)
                    }
                }
            }
            for r0 in stride(from: 0, to: B, by: rows) {
                let m = min(rows, B - r0)
                let input =
                    sharedInputs
                    ? RowView(base: inputBase + r0 * inSize, genomeStride: 0, rowStride: inSize)
                    : RowView(base: inputBase + (g0 * B + r0) * inSize, genomeStride: B * inSize, rowStride: inSize)
                let output = RowView(
                    base: outputs.baseAddress! + (g0 * B + r0) * outSize, genomeStride: B * outSize, rowStride: outSize)
                forwardTile(genomes: groupGenomes, count: g, input: input, samples: m, output: output, stacked: stacked)
            }
        }
    }

    /// Convenience for tests and small callers: `forward` on arrays, returning (P, B, outputSize).
    public func forward(genomes: [Float], populationSize: Int, inputs: [Float], batchSize: Int, sharedInputs: Bool)
        -> [Float]
    {
        var outputs = [Float](repeating: 0, count: populationSize * batchSize * outputSize)
        genomes.withUnsafeBufferPointer { g in
            inputs.withUnsafeBufferPointer { x in
                outputs.withUnsafeMutableBufferPointer { y in
                    forward(
                        genomes: g, populationSize: populationSize, inputs: x, batchSize: batchSize,
                        sharedInputs: sharedInputs, outputs: y)
                }
            }
        }
        return outputs
    }

    /// Samples per im2col chunk for conv layer `index`: as many of the tile's rows as fit the
    /// column budget, and the product budget when `stackedGenomes` genomes share one GEMM.
    func convolutionChunk(layer index: Int, rows: Int, stackedGenomes: Int) -> Int {
        let outputPixels = features[index + 1] / shapes[index + 1][0]
        let columnsPerSample = fanIn(layer: index) * outputPixels
        let productPerSample = stackedGenomes * features[index + 1]
        return max(1, min(rows, columnScratchFloats / columnsPerSample, columnScratchFloats / productPerSample))
    }

    /// Room for every conv layer's columns and product, one genome at a time or (for the stacked
    /// layer) `group` genomes in one GEMM.
    func reserveConvolutionScratch(rows: Int, group: Int) {
        for (index, layer) in spec.layers.enumerated() {
            guard case .conv2d(let outChannels, _, _, _) = layer else { continue }
            if let plan = directConvolutionPlan(layer: index) {
                paddedInput.reserve(plan.paddedLength)
                directScratch.reserve(plan.scratchLength)
            }
            let outputPixels = features[index + 1] / outChannels
            let single = convolutionChunk(layer: index, rows: rows, stackedGenomes: 1)
            columns.reserve(fanIn(layer: index) * outputPixels * single)
            product.reserve(outChannels * outputPixels * single)
            if index == stackedLayer {
                let stacked = convolutionChunk(layer: index, rows: rows, stackedGenomes: group)
                product.reserve(group * outChannels * outputPixels * stacked)
            }
        }
    }

    /// The forward pass of `count` genomes on one tile of `samples` rows.
    ///
    /// `stacked` is the layer whose group weights and biases are already in `packedWeights` and
    /// `packedBiases` (a first linear layer on shared inputs), or nil.
    private func forwardTile(
        genomes: UnsafePointer<Float>, count g: Int, input: RowView, samples m: Int, output: RowView, stacked: Int?
    ) {
        let n = parameterCount
        var current = input
        var currentIsInput = true
        func freeBuffer() -> UnsafeMutablePointer<Float> {
            current.base == bufferA.pointer ? bufferB.pointer : bufferA.pointer
        }

        // Layers up to this index were applied by an earlier layer's kernel (a fused activation or pool).
        var fusedThrough = -1
        for (index, layer) in spec.layers.enumerated() where index > fusedThrough {
            let inFeatures = features[index]
            let outFeatures = features[index + 1]
            let isLast = index == lastParametricLayer
            // An element-wise activation right after a linear or conv2d layer is applied while
            // each row is still in cache.
            var fused: Activation?
            if layer.hasParameters, index + 1 < spec.layers.count, case .activation(let next) = spec.layers[index + 1],
                next.isElementwise
            {
                fused = next
                fusedThrough = index + 1
            }
            switch layer {
            case .flatten:
                continue
            case .linear(let OC, _):
                let IC = inFeatures
                let weightOffset = weightOffsets[index]!
                let biasOffset = biasOffsets[index]
                if index == stacked && current.genomeStride == 0 {
                    // Shared input: one GEMM for the whole group against its stacked weights.
                    let dest = RowView(base: freeBuffer(), genomeStride: OC, rowStride: g * OC)
                    linearForward(
                        dest.base, current.base, packedWeights.pointer, nil, m, IC, g * OC,
                        ldOut: g * OC, ldInp: current.rowStride)
                    NetworkKernels.biasActivationForward(
                        dest.base, ldOut: g * OC, biasOffset == nil ? nil : packedBiases.pointer, B: m, F: g * OC,
                        activation: fused)
                    current = dest
                } else {
                    let dest = isLast ? output : RowView(base: freeBuffer(), genomeStride: m * OC, rowStride: OC)
                    for p in 0..<g {
                        let genome = genomes + p * n
                        let out = dest.row(genome: p, sample: 0)
                        linearForward(
                            out, current.row(genome: p, sample: 0), genome + weightOffset, nil, m, IC, OC,
                            ldOut: dest.rowStride, ldInp: current.rowStride)
                        NetworkKernels.biasActivationForward(
                            out, ldOut: dest.rowStride, biasOffset.map { genome + $0 }, B: m, F: OC, activation: fused)
                    }
                    current = dest
                }
                currentIsInput = false
            case .conv2d(let OC, let K, let step, let pad):
                let (C, H, W) = (shapes[index][0], shapes[index][1], shapes[index][2])
                let (OH, OW) = (shapes[index + 1][1], shapes[index + 1][2])
                // A maxpool2d right after (or after a non-decreasing activation) pools the GEMM's
                // product before bias and activation: max commutes with both, and the pass
                // over the full-size output is saved. The direct convolution pools 2×2 windows
                // with stride 2 only.
                let direct = usesDirectConvolution(layer: index)
                let poolIndex = fused == nil ? index + 1 : index + 2
                var pool: (kernel: Int, stride: Int, height: Int, width: Int)?
                if poolIndex < spec.layers.count, case .maxPool2d(let kernel, let poolStride) = spec.layers[poolIndex],
                    fused == nil || fused == .relu || fused == .tanh || fused == .sigmoid,
                    !direct || (kernel == 2 && poolStride == 2)
                {
                    pool = (kernel, poolStride, shapes[poolIndex + 1][1], shapes[poolIndex + 1][2])
                    fusedThrough = poolIndex
                }
                let destFeatures = pool == nil ? outFeatures : features[poolIndex + 1]
                let dest =
                    isLast
                    ? output : RowView(base: freeBuffer(), genomeStride: m * destFeatures, rowStride: destFeatures)
                if direct {
                    directConvolution(
                        layer: index, genomes: genomes, count: g, input: current, samples: m, output: dest,
                        activation: fused,
                        pool: pool != nil)
                    current = dest
                    currentIsInput = false
                    continue
                }
                // Shared input: the columns are unfolded once and all genomes' filters run as one GEMM.
                let isStacked = index == stacked && current.genomeStride == 0
                let chunk = convolutionChunk(layer: index, rows: m, stackedGenomes: isStacked ? g : 1)
                for s0 in stride(from: 0, to: m, by: chunk) {
                    let ns = min(chunk, m - s0)
                    for p in 0..<(isStacked ? 1 : g) {
                        if p == 0 || current.genomeStride != 0 {
                            NetworkKernels.im2col(
                                columns.pointer, current.row(genome: p, sample: s0), sampleStride: current.rowStride,
                                B: ns, C: C, H: H, W: W, KS: K, stride: step, pad: pad, OH: OH, OW: OW)
                        }
                        let genome = genomes + p * n
                        NetworkKernels.convForward(
                            dest.row(genome: p, sample: s0), sampleStride: dest.rowStride,
                            genomeStride: dest.genomeStride,
                            product.pointer, columns.pointer,
                            isStacked ? UnsafePointer(packedWeights.pointer) : genome + weightOffsets[index]!,
                            isStacked ? UnsafePointer(packedBiases.pointer) : genome + biasOffsets[index]!,
                            B: ns, G: isStacked ? g : 1, OC: OC, columnLength: C * K * K, OH: OH, OW: OW,
                            activation: fused, pool: pool)
                    }
                }
                current = dest
                currentIsInput = false
            case .maxPool2d(let K, let step):
                let (C, H, W) = (shapes[index][0], shapes[index][1], shapes[index][2])
                let (OH, OW) = (shapes[index + 1][1], shapes[index + 1][2])
                let shared = current.genomeStride == 0
                let dest = RowView(
                    base: freeBuffer(), genomeStride: shared ? 0 : m * outFeatures, rowStride: outFeatures)
                for p in 0..<(shared ? 1 : g) {
                    NetworkKernels.maxPoolForward(
                        dest.row(genome: p, sample: 0), outStride: outFeatures, current.row(genome: p, sample: 0),
                        inStride: current.rowStride, N: m, C: C, H: H, W: W, K: K, stride: step, OH: OH, OW: OW)
                }
                current = dest
                currentIsInput = false
            case .activation(let activation):
                let genomesToTouch = current.genomeStride == 0 ? 1 : g
                if currentIsInput {
                    // Never write into the caller's inputs: copy them into scratch first.
                    let dest = RowView(
                        base: freeBuffer(), genomeStride: current.genomeStride == 0 ? 0 : m * inFeatures,
                        rowStride: inFeatures)
                    for p in 0..<genomesToTouch {
                        for b in 0..<m {
                            dest.row(genome: p, sample: b).update(
                                from: current.row(genome: p, sample: b), count: inFeatures)
                        }
                    }
                    current = dest
                    currentIsInput = false
                }
                if activation.isElementwise && current.genomeStride == inFeatures && current.rowStride == g * inFeatures
                {
                    // Interleaved rows of the whole group are one contiguous block.
                    NetworkKernels.activationInPlace(current.base, F: m * g * inFeatures, activation)
                } else if activation.isElementwise && current.rowStride == inFeatures {
                    // Each genome's rows are contiguous.
                    for p in 0..<genomesToTouch {
                        let rows = current.row(genome: p, sample: 0)
                        NetworkKernels.activationInPlace(rows, F: m * inFeatures, activation)
                    }
                } else {
                    for p in 0..<genomesToTouch {
                        for b in 0..<m {
                            let row = current.row(genome: p, sample: b)
                            NetworkKernels.activationInPlace(row, F: inFeatures, activation)
                        }
                    }
                }
            }
        }

        if current.base != output.base {
            // No parametric layer wrote the outputs (a spec of activations only): copy them out.
            let outFeatures = outputSize
            for p in 0..<g {
                for b in 0..<m {
                    output.row(genome: p, sample: b).update(from: current.row(genome: p, sample: b), count: outFeatures)
                }
            }
        }
    }
}
