import Kernels
import VectorKernels

/// Conv2d layers run as direct convolutions (`VectorKernels.DirectConvolution`) where that is
/// faster than im2col + GEMM: stride 1 and the shapes `ConvolutionAlgorithm.directWins` picks.
///
/// Per genome and per sample the input is copied into zero-bordered planes, then every output
/// channel is computed from them with bias, a relu and a 2×2 / stride 2 max-pool fused when they
/// follow the layer (the pool only then; other pools run as their own layer). Each output is a sum
/// in a fixed order over (c, i, j) for its own genome and sample, so the outputs do not depend on
/// how genomes are grouped or samples tiled, nor on the thread count.
extension Network {
    /// Whether conv2d layer `index` runs as a direct convolution under `convolutionAlgorithm`
    /// on this CPU.
    func usesDirectConvolution(layer index: Int) -> Bool {
        guard DirectConvolution.isSupported, let plan = directConvolutionPlan(layer: index) else { return false }
        switch convolutionAlgorithm {
        case .im2col: return false
        case .direct: return true
        case .automatic: return ConvolutionAlgorithm.directWins(outChannels: plan.OC, laneUse: plan.laneUse)
        }
    }

    /// Whether any conv2d layer runs as a direct convolution (under `convolutionAlgorithm`, on
    /// this CPU).
    public var hasDirectConvolution: Bool { spec.layers.indices.contains { usesDirectConvolution(layer: $0) } }

    /// The direct convolution's plan for conv2d layer `index` (stride 1).
    func directConvolutionPlan(layer index: Int) -> DirectConvolution.Plan? {
        guard case .conv2d(let OC, let K, 1, let pad) = spec.layers[index] else { return nil }
        let (C, H, W) = (shapes[index][0], shapes[index][1], shapes[index][2])
        return DirectConvolution.Plan(C: C, H: H, W: W, OC: OC, K: K, pad: pad, layout: directConvolutionLayout)
    }

    /// Conv2d layer `index` as a direct convolution for `count` genomes on `samples` rows.
    ///
    /// input gives sample b of genome p as (C, H, W); output receives (OC, OH, OW), or with
    /// `pool` (OC, ⌊OH/2⌋, ⌊OW/2⌋) max-pooled over 2×2 windows, stride 2. `activation` is applied
    /// after bias (and after the pool, which the caller allows only for non-decreasing ones).
    func directConvolution(
        layer index: Int, genomes: UnsafePointer<Float>, count g: Int, input: RowView, samples m: Int, output: RowView,
        activation: Activation?, pool: Bool
    ) {
        guard let plan = directConvolutionPlan(layer: index) else {
            preconditionFailure("layer \(index) is not a stride-1 conv2d")
        }
        let (OC, OH, OW) = (plan.OC, plan.OH, plan.OW)
        let outFeatures = pool ? OC * (OH / 2) * (OW / 2) : OC * OH * OW
        let relu = activation == .relu
        let after = relu ? nil : activation
        paddedInput.reserve(plan.paddedLength)
        directScratch.reserve(plan.scratchLength)
        let padded = paddedInput.pointer
        let scratch = directScratch.pointer
        // The borders stay zero: each sample rewrites only the interior.
        padded.update(repeating: 0, count: plan.paddedLength)
        let (n, weightOffset, biasOffset) = (parameterCount, weightOffsets[index]!, biasOffsets[index]!)
        func run(genome p: Int, sample b: Int) {
            let out = output.row(genome: p, sample: b)
            DirectConvolution.forward(
                out, padded, genomes + p * n + weightOffset, genomes + p * n + biasOffset, scratch: scratch, plan: plan,
                relu: relu,
                pool: pool)
            if let after { NetworkKernels.activationInPlace(out, F: outFeatures, after) }
        }
        if input.genomeStride == 0 {
            // Shared inputs: each sample is padded once for the whole group.
            for b in 0..<m {
                DirectConvolution.pad(padded, input.row(genome: 0, sample: b), plan: plan)
                for p in 0..<g { run(genome: p, sample: b) }
            }
        } else {
            for p in 0..<g {
                for b in 0..<m {
                    DirectConvolution.pad(padded, input.row(genome: p, sample: b), plan: plan)
                    run(genome: p, sample: b)
                }
            }
        }
    }
}
