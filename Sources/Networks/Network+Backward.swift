import Kernels

/// Gradients of one genome: a recording forward pass, then a backward pass that adds
/// `∂loss/∂parameters` (and optionally `∂loss/∂inputs`) given `∂loss/∂outputs`.
///
/// Used by the meta-learner's behavioural loss (back-propagated into the decoded genome) and to
/// train networks by gradient descent. The tape keeps every layer's output for the batch, so the
/// backward pass needs no recomputation except the im2col columns of convolutions. Buffers are
/// reused: after the first call for a batch size, neither pass allocates.
extension Network {
    /// Forward pass of one genome on B samples that records what `backward` needs.
    ///
    /// genome is (parameterCount), inputs (B, inputSize), outputs (B, outputSize).
    public func forwardRecording(
        genome: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, batchSize B: Int,
        outputs: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(
            genome.count == parameterCount, "genome has \(genome.count) values, network needs \(parameterCount)")
        precondition(inputs.count >= B * inputSize && outputs.count >= B * outputSize, "inputs or outputs too short")
        precondition(B > 0, "batch size must be positive")
        tape.reserve(B * tapeSampleLength)
        reserveConvolutionScratch(rows: B, group: 1)
        recordedBatchSize = B
        let parameters = genome.baseAddress!
        let acts = tape.pointer
        acts.update(from: inputs.baseAddress!, count: B * inputSize)

        for (index, layer) in spec.layers.enumerated() {
            let inp = acts + B * tapeSampleOffsets[index]
            let out = acts + B * tapeSampleOffsets[index + 1]
            let inFeatures = features[index]
            let outFeatures = features[index + 1]
            switch layer {
            case .flatten:
                continue
            case .linear(let OC, _):
                linearForward(out, inp, parameters + weightOffsets[index]!, nil, B, inFeatures, OC)
                NetworkKernels.biasActivationForward(
                    out, ldOut: OC, biasOffsets[index].map { parameters + $0 }, B: B, F: OC, activation: nil)
            case .conv2d(let OC, let K, let step, let pad):
                let (C, H, W) = (shapes[index][0], shapes[index][1], shapes[index][2])
                let (OH, OW) = (shapes[index + 1][1], shapes[index + 1][2])
                if usesDirectConvolution(layer: index) {
                    // The same sums as the population forward pass, so both give the same bits.
                    let input = RowView(base: inp, genomeStride: 0, rowStride: inFeatures)
                    let output = RowView(base: out, genomeStride: 0, rowStride: outFeatures)
                    directConvolution(
                        layer: index, genomes: parameters, count: 1, input: input, samples: B, output: output,
                        activation: nil,
                        pool: false)
                    continue
                }
                let chunk = convolutionChunk(layer: index, rows: B, stackedGenomes: 1)
                for s0 in stride(from: 0, to: B, by: chunk) {
                    let ns = min(chunk, B - s0)
                    NetworkKernels.im2col(
                        columns.pointer, inp + s0 * inFeatures, sampleStride: inFeatures,
                        B: ns, C: C, H: H, W: W, KS: K, stride: step, pad: pad, OH: OH, OW: OW)
                    NetworkKernels.convForward(
                        out + s0 * outFeatures, sampleStride: outFeatures, genomeStride: 0, product.pointer,
                        columns.pointer,
                        parameters + weightOffsets[index]!, parameters + biasOffsets[index]!,
                        B: ns, G: 1, OC: OC, columnLength: C * K * K, OH: OH, OW: OW)
                }
            case .maxPool2d(let K, let step):
                let (C, H, W) = (shapes[index][0], shapes[index][1], shapes[index][2])
                NetworkKernels.maxPoolForward(
                    out, outStride: outFeatures, inp, inStride: inFeatures, N: B, C: C, H: H, W: W, K: K, stride: step,
                    OH: shapes[index + 1][1], OW: shapes[index + 1][2])
            case .activation(let activation):
                for b in 0..<B {
                    NetworkKernels.activationForward(
                        out + b * outFeatures, inp + b * inFeatures, F: inFeatures, activation)
                }
            }
        }
        outputs.baseAddress!.update(from: acts + B * tapeSampleOffsets[spec.layers.count], count: B * outputSize)
    }

    /// Backward pass for the batch of the last `forwardRecording`, with the same genome.
    ///
    /// outputGradient is (B, outputSize), `∂loss/∂outputs`. Adds `∂loss/∂genome` into
    /// parameterGradient (parameterCount, same layout as the genome) and, when given,
    /// `∂loss/∂inputs` into inputGradient (B, inputSize). Nothing is zeroed here.
    public func backward(
        genome: UnsafeBufferPointer<Float>, outputGradient: UnsafeBufferPointer<Float>,
        parameterGradient: UnsafeMutableBufferPointer<Float>, inputGradient: UnsafeMutableBufferPointer<Float>?
    ) {
        let B = recordedBatchSize
        precondition(B > 0, "backward needs a forwardRecording first")
        precondition(
            genome.count == parameterCount && parameterGradient.count == parameterCount,
            "genome and parameterGradient must hold parameterCount = \(parameterCount) values")
        precondition(outputGradient.count >= B * outputSize, "outputGradient too short for the recorded batch")
        precondition(inputGradient.map { $0.count >= B * inputSize } ?? true, "inputGradient too short")
        let maxFeatures = features.max()!
        gradientA.reserve(B * maxFeatures)
        gradientB.reserve(B * maxFeatures)
        for (index, layer) in spec.layers.enumerated() {
            if case .conv2d = layer {
                let chunk = convolutionChunk(layer: index, rows: B, stackedGenomes: 1)
                columnGradient.reserve(fanIn(layer: index) * features[index + 1] / shapes[index + 1][0] * chunk)
            }
        }
        let parameters = genome.baseAddress!
        let gradients = parameterGradient.baseAddress!
        let acts = tape.pointer
        // Layers before the first parametric one only matter for the input gradient.
        let firstNeeded = inputGradient == nil ? (spec.layers.firstIndex { $0.hasParameters } ?? spec.layers.count) : 0

        var dout = outputGradient.baseAddress!
        for index in stride(from: spec.layers.count - 1, through: firstNeeded, by: -1) {
            let layer = spec.layers[index]
            let inp = acts + B * tapeSampleOffsets[index]
            let out = acts + B * tapeSampleOffsets[index + 1]
            let inFeatures = features[index]
            let outFeatures = features[index + 1]
            // Flatten keeps the values and their order: its gradient passes through unchanged.
            if case .flatten = layer, index > 0 { continue }
            // dinp: where ∂loss/∂(this layer's input) goes; nil when nobody needs it.
            let dinp: UnsafeMutablePointer<Float>?
            if index == 0 {
                dinp = inputGradient?.baseAddress
            } else if index == firstNeeded {
                dinp = nil
            } else {
                let buffer = dout == UnsafePointer(gradientA.pointer) ? gradientB.pointer : gradientA.pointer
                buffer.update(repeating: 0, count: B * inFeatures)
                dinp = buffer
            }
            switch layer {
            case .flatten:
                if let dinp {
                    for k in 0..<(B * inFeatures) { dinp[k] += dout[k] }
                }
            case .linear(let OC, _):
                linearBackward(
                    dinp, gradients + weightOffsets[index]!, biasOffsets[index].map { gradients + $0 },
                    dout, inp, parameters + weightOffsets[index]!, B, inFeatures, OC)
            case .conv2d(let OC, let K, let step, let pad):
                let (C, H, W) = (shapes[index][0], shapes[index][1], shapes[index][2])
                let (OH, OW) = (shapes[index + 1][1], shapes[index + 1][2])
                let chunk = convolutionChunk(layer: index, rows: B, stackedGenomes: 1)
                for s0 in stride(from: 0, to: B, by: chunk) {
                    let ns = min(chunk, B - s0)
                    NetworkKernels.im2col(
                        columns.pointer, inp + s0 * inFeatures, sampleStride: inFeatures,
                        B: ns, C: C, H: H, W: W, KS: K, stride: step, pad: pad, OH: OH, OW: OW)
                    NetworkKernels.convBackward(
                        dinp == nil ? nil : columnGradient.pointer,
                        gradients + weightOffsets[index]!, gradients + biasOffsets[index]!, product.pointer,
                        dout + s0 * outFeatures, columns.pointer, parameters + weightOffsets[index]!,
                        B: ns, OC: OC, columnLength: C * K * K, OHW: OH * OW)
                    if let dinp {
                        NetworkKernels.col2imAdd(
                            dinp + s0 * inFeatures, sampleStride: inFeatures, columnGradient.pointer,
                            B: ns, C: C, H: H, W: W, KS: K, stride: step, pad: pad, OH: OH, OW: OW)
                    }
                }
            case .maxPool2d(let K, let step):
                if let dinp {
                    let (C, H, W) = (shapes[index][0], shapes[index][1], shapes[index][2])
                    NetworkKernels.maxPoolBackward(
                        dinp, dout, inp, N: B, C: C, H: H, W: W, K: K, stride: step, OH: shapes[index + 1][1],
                        OW: shapes[index + 1][2])
                }
            case .activation(let activation):
                if let dinp {
                    for b in 0..<B {
                        NetworkKernels.activationBackward(
                            dinp + b * inFeatures, dout + b * outFeatures, inp + b * inFeatures, out + b * outFeatures,
                            F: inFeatures, activation)
                    }
                }
            }
            if let dinp { dout = UnsafePointer(dinp) }
        }
    }
}
