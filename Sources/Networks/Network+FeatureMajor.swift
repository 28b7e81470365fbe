import CBLAS
import Foundation

/// The population forward pass of an MLP on shared inputs with activations stored feature-major.
///
/// For a tile of `m` samples, genome `p`'s activations of a layer with `F` features are an
/// `[F × m]` block (one row per feature, samples contiguous), and the group's blocks follow one
/// another. Each linear layer is then `outᵀ_p = W_p · inᵀ_p` — for the first layer of the whole
/// group one GEMM `[g·OC × IC] · X_tileᵀ` against the stacked weights, for later layers one GEMM
/// per genome `[OC × IC] · [IC × m]` whose long side is the samples, the shape BLAS runs fastest
/// (a narrow output layer `[m × IC] · [OC × IC]ᵀ` with OC = 10 is several times slower). Bias and
/// element-wise activation are one pass over each contiguous row while the tile is in cache, and
/// each tile's outputs go straight to the caller (a loss), so no `(P, B, outputSize)` buffer is
/// filled and read back.
extension Network {
    /// Whether `forwardFeatureMajor` handles this spec: linear layers, `flatten` and element-wise
    /// activations only, with a linear layer first (ignoring `flatten`).
    public var supportsFeatureMajorForward: Bool {
        guard let first = spec.layers.first(where: { $0 != .flatten }), case .linear = first else { return false }
        return spec.layers.allSatisfy { layer in
            switch layer {
            case .linear, .flatten: return true
            case .activation(let activation): return activation.isElementwise
            case .conv2d, .maxPool2d: return false
            }
        }
    }

    /// Runs `populationSize` genomes on the same `batchSize` inputs and hands the outputs to `body`
    /// one tile at a time, feature-major.
    ///
    /// genomes is (P, parameterCount), inputs is (B, inputSize). `body(first, count, samples,
    /// outputs)` receives genomes `first ..< first + count` on samples `samples` (`m` of them),
    /// outputs being (count, outputSize, m): output `o` of genome `first + p` on sample
    /// `samples.lowerBound + b` is at `(p·outputSize + o)·m + b`. The pointer is valid only during
    /// the call. Tiles come in a fixed order (genome groups, then samples), so a caller that
    /// accumulates over them gets the same bits on every run. Requires `supportsFeatureMajorForward`.
    public func forwardFeatureMajor(
        genomes: UnsafeBufferPointer<Float>, populationSize: Int,
        inputs: UnsafeBufferPointer<Float>, batchSize: Int,
        body: (_ first: Int, _ count: Int, _ samples: Range<Int>, _ outputs: UnsafePointer<Float>) -> Void
    ) {
        precondition(supportsFeatureMajorForward, "forwardFeatureMajor needs linear layers and element-wise activations")
        let P = populationSize, B = batchSize, n = parameterCount, inSize = inputSize
        precondition(genomes.count >= P * n, "genomes hold \(genomes.count) values, need P·n = \(P * n)")
        precondition(inputs.count >= B * inSize, "inputs too short for the batch")
        guard P > 0, B > 0 else { return }

        let first = spec.layers.firstIndex { $0.hasParameters }!
        let widest = features.dropFirst().max()!
        let rows = min(B, featureMajorRowsPerTile)
        let group = max(1, min(P, featureMajorTileFloats / (rows * widest)))
        bufferA.reserve(group * widest * rows)
        bufferB.reserve(group * widest * rows)
        let (firstOut, firstIn) = (features[first + 1], features[first])
        packedWeights.reserve(group * firstOut * firstIn)
        packedBiases.reserve(group * firstOut)

        let genomeBase = genomes.baseAddress!
        for g0 in stride(from: 0, to: P, by: group) {
            let g = min(group, P - g0)
            let groupGenomes = genomeBase + g0 * n
            // The first layer's weights of the group one above the other, [g·OC × IC], and its
            // biases end to end.
            for p in 0..<g {
                let genome = groupGenomes + p * n
                (packedWeights.pointer + p * firstOut * firstIn).update(from: genome + weightOffsets[first]!, count: firstOut * firstIn)
                if let biasOffset = biasOffsets[first] {
                    (packedBiases.pointer + p * firstOut).update(from: genome + biasOffset, count: firstOut)
                }
            }
            for r0 in stride(from: 0, to: B, by: rows) {
                let m = min(rows, B - r0)
                let outputs = featureMajorTile(
                    genomes: groupGenomes, count: g, inputTile: inputs.baseAddress! + r0 * inSize, samples: m, firstLayer: first)
                body(g0, g, r0 ..< r0 + m, outputs)
            }
        }
    }

    /// One tile of `forwardFeatureMajor`: returns the buffer holding the (g, outputSize, m) outputs.
    private func featureMajorTile(
        genomes: UnsafePointer<Float>, count g: Int, inputTile: UnsafePointer<Float>, samples m: Int, firstLayer: Int
    ) -> UnsafePointer<Float> {
        let n = parameterCount
        var current = bufferB.pointer
        var fusedActivationLayer: Int?
        for (index, layer) in spec.layers.enumerated() where index != fusedActivationLayer {
            let F = features[index + 1]
            switch layer {
            case .flatten:
                continue
            case .linear(let OC, _):
                var fused: Activation?
                if index + 1 < spec.layers.count, case .activation(let next) = spec.layers[index + 1] {
                    fused = next
                    fusedActivationLayer = index + 1
                }
                let IC = features[index]
                let dest = current == bufferA.pointer ? bufferB.pointer : bufferA.pointer
                if index == firstLayer {
                    // [g·OC × m] = [g·OC × IC] · X_tileᵀ, X_tile being (m, IC) sample-major.
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(g * OC), Int32(m), Int32(IC),
                        1, packedWeights.pointer, Int32(IC), inputTile, Int32(IC), 0, dest, Int32(m))
                    NetworkKernels.rowBiasActivationForward(
                        dest, bias: biasOffsets[index] == nil ? nil : packedBiases.pointer, rows: g * OC, length: m, activation: fused)
                } else {
                    for p in 0..<g {
                        let genome = genomes + p * n
                        let out = dest + p * OC * m
                        // [OC × m] = [OC × IC] · [IC × m].
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(OC), Int32(m), Int32(IC),
                            1, genome + weightOffsets[index]!, Int32(IC), current + p * IC * m, Int32(m), 0, out, Int32(m))
                        NetworkKernels.rowBiasActivationForward(
                            out, bias: biasOffsets[index].map { genome + $0 }, rows: OC, length: m, activation: fused)
                    }
                }
                current = dest
            case .activation(let activation):
                NetworkKernels.activationInPlace(current, F: g * F * m, activation)
            case .conv2d, .maxPool2d:
                preconditionFailure("forwardFeatureMajor does not run conv2d or maxpool2d layers")
            }
        }
        return UnsafePointer(current)
    }
}
