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
        precondition(
            supportsFeatureMajorForward, "forwardFeatureMajor needs linear layers and element-wise activations")
        let P = populationSize
        let B = batchSize
        let n = parameterCount
        let inSize = inputSize
        precondition(genomes.count >= P * n, "genomes hold \(genomes.count) values, need P·n = \(P * n)")
        precondition(inputs.count >= B * inSize, "inputs too short for the batch")
        guard P > 0, B > 0 else { return }

        let (first, rows, group) = featureMajorTiling(populationSize: P, batchSize: B)
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
                (packedWeights.pointer + p * firstOut * firstIn).update(
                    from: genome + weightOffsets[first]!, count: firstOut * firstIn)
                if let biasOffset = biasOffsets[first] {
                    (packedBiases.pointer + p * firstOut).update(from: genome + biasOffset, count: firstOut)
                }
            }
            for r0 in stride(from: 0, to: B, by: rows) {
                let m = min(rows, B - r0)
                let outputs = featureMajorTile(
                    weights: .genomes(groupGenomes), count: g, inputTile: inputs.baseAddress! + r0 * inSize, samples: m,
                    firstLayer: first)
                body(g0, g, r0..<r0 + m, outputs)
            }
        }
    }

    /// `forwardFeatureMajor` for genomes given as an anchor plus low-rank codes (EGGROLL): no
    /// genome's weights are formed. The first layer's `W₀ · X_tileᵀ` is computed once per sample
    /// tile for every genome; at each linear layer genome `p` computes `W₀ · in_p` against the
    /// shared anchor matrix and adds `(σ/√r) A_p (B_pᵀ in_p)`, `2 r m (IC + OC)` flops; its bias is
    /// `b₀ + σ ε_p`. Tiles come samples first, then genome groups (each genome still sees its
    /// sample tiles in order). Requires `supportsFeatureMajorForward`.
    public func forwardFeatureMajor(
        lowRank: LowRankGenomes, populationSize: Int, inputs: UnsafeBufferPointer<Float>, batchSize: Int,
        body: (_ first: Int, _ count: Int, _ samples: Range<Int>, _ outputs: UnsafePointer<Float>) -> Void
    ) {
        precondition(
            supportsFeatureMajorForward, "forwardFeatureMajor needs linear layers and element-wise activations")
        let P = populationSize
        let B = batchSize
        let inSize = inputSize
        precondition(inputs.count >= B * inSize, "inputs too short for the batch")
        precondition(
            lowRank.stride >= LowRankGenomes.codeOffsets(layout, rank: lowRank.rank).length,
            "codes shorter than the layout needs")
        guard P > 0, B > 0 else { return }
        let (first, rows, group) = featureMajorTiling(populationSize: P, batchSize: B)
        packedBiases.reserve(group * features.dropFirst().max()!)
        anchorProduct.reserve(features[first + 1] * rows)
        lowRankProduct.reserve(lowRank.rank * rows)
        let (firstOut, firstIn) = (features[first + 1], features[first])
        var codes = LowRankCodeLayout()
        let offsets = LowRankGenomes.codeOffsets(layout, rank: lowRank.rank).offsets
        for (tensor, offset) in zip(layout.tensors, offsets) {
            if tensor.isBias {
                codes.bias[tensor.layerIndex] = offset
            } else {
                codes.weight[tensor.layerIndex] = offset
            }
        }
        for r0 in stride(from: 0, to: B, by: rows) {
            let m = min(rows, B - r0)
            let inputTile = inputs.baseAddress! + r0 * inSize
            // W₀ · X_tileᵀ, [OC × m], shared by every genome.
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(firstOut), Int32(m), Int32(firstIn),
                1, lowRank.anchor + weightOffsets[first]!, Int32(firstIn), inputTile, Int32(firstIn), 0,
                anchorProduct.pointer, Int32(m))
            for g0 in stride(from: 0, to: P, by: group) {
                let g = min(group, P - g0)
                let outputs = featureMajorTile(
                    weights: .lowRank(lowRank, first: g0, codes: codes), count: g, inputTile: inputTile, samples: m,
                    firstLayer: first)
                body(g0, g, r0..<r0 + m, outputs)
            }
        }
    }

    /// The tiling of both feature-major passes: the first parametric layer, samples per tile, and
    /// genomes per group (so that a tile of the widest layer for the whole group fits
    /// `featureMajorTileFloats`), with the two activation buffers reserved for it.
    private func featureMajorTiling(populationSize P: Int, batchSize B: Int) -> (first: Int, rows: Int, group: Int) {
        let first = spec.layers.firstIndex { $0.hasParameters }!
        let widest = features.dropFirst().max()!
        let rows = min(B, featureMajorRowsPerTile)
        let group = max(1, min(P, featureMajorTileFloats / (rows * widest)))
        bufferA.reserve(group * widest * rows)
        bufferB.reserve(group * widest * rows)
        return (first, rows, group)
    }

    /// Where a tile's weights come from: whole genomes, or an anchor plus the low-rank codes of the
    /// group starting at genome `first`.
    private enum TileWeights {
        case genomes(UnsafePointer<Float>)
        case lowRank(LowRankGenomes, first: Int, codes: LowRankCodeLayout)
    }

    /// Where a layer's weight and bias parts start in a low-rank code.
    private struct LowRankCodeLayout {
        var weight: [Int: Int] = [:]
        var bias: [Int: Int] = [:]
    }

    /// One tile of `forwardFeatureMajor`: returns the buffer holding the (g, outputSize, m) outputs.
    private func featureMajorTile(
        weights: TileWeights, count g: Int, inputTile: UnsafePointer<Float>, samples m: Int, firstLayer: Int
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
                guard case .genomes(let genomes) = weights else {
                    guard case .lowRank(let lowRank, let first, let codes) = weights else { preconditionFailure() }
                    lowRankLinear(
                        lowRank, first: first, count: g, layer: index, codes: codes,
                        input: index == firstLayer ? .tile(inputTile) : .featureMajor(current), output: dest,
                        samples: m, activation: fused)
                    current = dest
                    continue
                }
                if index == firstLayer {
                    // [g·OC × m] = [g·OC × IC] · X_tileᵀ, X_tile being (m, IC) sample-major.
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(g * OC), Int32(m), Int32(IC),
                        1, packedWeights.pointer, Int32(IC), inputTile, Int32(IC), 0, dest, Int32(m))
                    NetworkKernels.rowBiasActivationForward(
                        dest, bias: biasOffsets[index] == nil ? nil : packedBiases.pointer, rows: g * OC, length: m,
                        activation: fused)
                } else {
                    for p in 0..<g {
                        let genome = genomes + p * n
                        let out = dest + p * OC * m
                        // [OC × m] = [OC × IC] · [IC × m].
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(OC), Int32(m), Int32(IC),
                            1, genome + weightOffsets[index]!, Int32(IC), current + p * IC * m, Int32(m), 0, out,
                            Int32(m))
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

    /// One linear layer of a low-rank group: for each genome `p` of `count` (codes from `first`),
    /// `out_p = W₀ · in_p + (σ_W/√r) A_p (B_pᵀ in_p) + b₀ + σ_b ε_p`, then `activation`. On the first
    /// layer `in_p` is the shared input tile (sample-major) and `W₀ · X_tileᵀ` is `anchorProduct`.
    private func lowRankLinear(
        _ lowRank: LowRankGenomes, first: Int, count g: Int, layer index: Int, codes: LowRankCodeLayout,
        input: LowRankInput, output dest: UnsafeMutablePointer<Float>, samples m: Int, activation: Activation?
    ) {
        let (OC, IC, r) = (features[index + 1], features[index], lowRank.rank)
        let weightTensor = layout.tensors.firstIndex { $0.offset == weightOffsets[index]! }!
        let matrixScale = lowRank.sigma(tensor: weightTensor) / Float(r).squareRoot()
        let biasSigma = biasOffsets[index].map { offset in
            lowRank.sigma(tensor: layout.tensors.firstIndex { $0.offset == offset }!)
        }
        let anchorWeights = lowRank.anchor + weightOffsets[index]!
        for p in 0..<g {
            let code = lowRank.codes + (first + p) * lowRank.stride
            let a = code + codes.weight[index]!
            let bt = a + OC * r
            let out = dest + p * OC * m
            switch input {
            case .tile(let x):
                out.update(from: anchorProduct.pointer, count: OC * m)
                // [r × m] = B_pᵀ · X_tileᵀ.
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r), Int32(m), Int32(IC),
                    1, bt, Int32(IC), x, Int32(IC), 0, lowRankProduct.pointer, Int32(m))
            case .featureMajor(let h):
                let inP = h + p * IC * m
                // [OC × m] = W₀ · in_p, then [r × m] = B_pᵀ · in_p.
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(OC), Int32(m), Int32(IC),
                    1, anchorWeights, Int32(IC), inP, Int32(m), 0, out, Int32(m))
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(r), Int32(m), Int32(IC),
                    1, bt, Int32(IC), inP, Int32(m), 0, lowRankProduct.pointer, Int32(m))
            }
            // out_p += (σ/√r) A_p · (B_pᵀ in_p).
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(OC), Int32(m), Int32(r),
                matrixScale, a, Int32(r), lowRankProduct.pointer, Int32(m), 1, out, Int32(m))
            if let biasOffset = biasOffsets[index] {
                let bias = packedBiases.pointer + p * OC
                let b0 = lowRank.anchor + biasOffset
                let e = code + codes.bias[index]!
                for o in 0..<OC { bias[o] = b0[o] + biasSigma! * e[o] }
            }
        }
        NetworkKernels.rowBiasActivationForward(
            dest, bias: biasOffsets[index] == nil ? nil : packedBiases.pointer, rows: g * OC, length: m,
            activation: activation)
    }

    /// The input of a low-rank linear layer: the shared input tile, `(m, IC)` sample-major, or the
    /// group's feature-major activations.
    private enum LowRankInput {
        case tile(UnsafePointer<Float>)
        case featureMajor(UnsafeMutablePointer<Float>)
    }
}
