import Kernels

/// One pre-LayerNorm transformer block (Xiong et al. 2020, as GPT-2): an attention sublayer and
/// an MLP sublayer, each with a residual connection.
///
/// With `x` the block input `(rows, d)` and `c` the context `(contextRows, d)`:
/// ```
/// n = LN₁(x);  m = cross ? LN_c(c) : n
/// a = MultiHead(q = n W_qᵀ + b_q, k = m W_kᵀ + b_k, v = m W_vᵀ + b_v, keyMask)
/// r = x + a W_oᵀ + b_o
/// out = r + GELU(LN₂(r) W₁ᵀ + b₁) W₂ᵀ + b₂
/// ```
/// Self-attention blocks attend within `x` (`c = x`); cross-attention blocks take queries from `x`
/// and keys/values from `c` (the Perceiver's pooling, Jaegle et al. 2021). The block stores only
/// parameter offsets; the model's flat buffers hold the numbers.
struct AttentionBlock {
    let width: Int
    let heads: Int
    let hidden: Int
    let cross: Bool

    let norm1Weight: Int, norm1Bias: Int
    let contextNormWeight: Int, contextNormBias: Int  // cross-attention only
    let queryWeight: Int, queryBias: Int
    let keyWeight: Int, keyBias: Int
    let valueWeight: Int, valueBias: Int
    let outputWeight: Int, outputBias: Int
    let norm2Weight: Int, norm2Bias: Int
    let fc1Weight: Int, fc1Bias: Int
    let fc2Weight: Int, fc2Bias: Int

    /// Registers the block's tensors under `prefix` in `table`.
    init(prefix: String, width d: Int, heads: Int, hidden: Int, cross: Bool, table: inout ParameterTable) {
        width = d
        self.heads = heads
        self.hidden = hidden
        self.cross = cross
        norm1Weight = table.add("\(prefix).norm1.weight", [d], decays: false)
        norm1Bias = table.add("\(prefix).norm1.bias", [d], decays: false)
        if cross {
            contextNormWeight = table.add("\(prefix).contextNorm.weight", [d], decays: false)
            contextNormBias = table.add("\(prefix).contextNorm.bias", [d], decays: false)
        } else {
            contextNormWeight = -1
            contextNormBias = -1
        }
        queryWeight = table.add("\(prefix).attention.query.weight", [d, d], decays: true)
        queryBias = table.add("\(prefix).attention.query.bias", [d], decays: false)
        keyWeight = table.add("\(prefix).attention.key.weight", [d, d], decays: true)
        keyBias = table.add("\(prefix).attention.key.bias", [d], decays: false)
        valueWeight = table.add("\(prefix).attention.value.weight", [d, d], decays: true)
        valueBias = table.add("\(prefix).attention.value.bias", [d], decays: false)
        outputWeight = table.add("\(prefix).attention.output.weight", [d, d], decays: true)
        outputBias = table.add("\(prefix).attention.output.bias", [d], decays: false)
        norm2Weight = table.add("\(prefix).norm2.weight", [d], decays: false)
        norm2Bias = table.add("\(prefix).norm2.bias", [d], decays: false)
        fc1Weight = table.add("\(prefix).mlp.fc1.weight", [hidden, d], decays: true)
        fc1Bias = table.add("\(prefix).mlp.fc1.bias", [hidden], decays: false)
        fc2Weight = table.add("\(prefix).mlp.fc2.weight", [d, hidden], decays: true)
        fc2Bias = table.add("\(prefix).mlp.fc2.bias", [d], decays: false)
    }

    /// Initial values: layer-norm gains 1, biases 0, weights `N(0, 1/fan_in)`, and the two
    /// projections that write into the residual stream scaled down by `residualScale` (GPT-2's
    /// `1/√(2·blocks)`).
    func initialize(_ params: UnsafeMutablePointer<Float>, random: inout RandomStream, residualScale: Float) {
        let d = width
        func fill(_ offset: Int, _ count: Int, std: Float) {
            random.fillGaussian(UnsafeMutableBufferPointer(start: params + offset, count: count), std: std)
        }
        let norms = [norm1Weight, norm2Weight] + (cross ? [contextNormWeight] : [])
        for offset in norms { (params + offset).update(repeating: 1, count: d) }
        let inverseRootD = 1 / Float(d).squareRoot()
        fill(queryWeight, d * d, std: inverseRootD)
        fill(keyWeight, d * d, std: inverseRootD)
        fill(valueWeight, d * d, std: inverseRootD)
        fill(outputWeight, d * d, std: inverseRootD * residualScale)
        fill(fc1Weight, hidden * d, std: inverseRootD)
        fill(fc2Weight, d * hidden, std: residualScale / Float(hidden).squareRoot())
    }

    /// Offsets of one block's activations for one batch shape.
    struct Activations {
        /// Where the block reads its input `(rows, d)` and context `(contextRows, d)`.
        let input: Int, context: Int
        /// Where the key mask `(attentionBatch, keys)` is, or `nil` when every key is real.
        let mask: Int?
        let rows: Int, contextRows: Int
        /// Attention geometry: `attentionBatch` independent sequences of `queries` and `keys`.
        let attentionBatch: Int, queries: Int, keys: Int
        let norm1: Int, norm1Mean: Int, norm1Rstd: Int
        let contextNorm: Int, contextNormMean: Int, contextNormRstd: Int
        let query: Int, key: Int, value: Int
        let probabilities: Int, attended: Int, projected: Int, residual: Int
        let norm2: Int, norm2Mean: Int, norm2Rstd: Int
        let fc1: Int, gelu: Int, fc2: Int
        /// The block output `(rows, d)`.
        let output: Int

        /// The normalised keys/values source: the context's norm, or the input's for self-attention.
        var keyValueSource: Int { contextNorm }
    }

    /// Plans the activations of the block on `layout`.
    ///
    /// - Parameters:
    ///   - input: offset of `x`, `(attentionBatch · queries, d)`.
    ///   - context: offset of `c`, `(attentionBatch · keys, d)`; ignored for self-attention.
    ///   - mask: offset of the key mask `(attentionBatch, keys)` or `nil`.
    func plan(
        _ layout: inout ActivationLayout, input: Int, context: Int?, mask: Int?,
        attentionBatch: Int, queries: Int, keys: Int
    ) -> Activations {
        let d = width
        let rows = attentionBatch * queries
        let contextRows = attentionBatch * keys
        precondition(cross || queries == keys, "self-attention needs as many keys as queries")
        let norm1 = layout.take(rows * d)
        let norm1Mean = layout.take(rows)
        let norm1Rstd = layout.take(rows)
        let contextNorm = cross ? layout.take(contextRows * d) : norm1
        let contextNormMean = cross ? layout.take(contextRows) : norm1Mean
        let contextNormRstd = cross ? layout.take(contextRows) : norm1Rstd
        return Activations(
            input: input, context: cross ? context! : input, mask: mask,
            rows: rows, contextRows: contextRows,
            attentionBatch: attentionBatch, queries: queries, keys: keys,
            norm1: norm1, norm1Mean: norm1Mean, norm1Rstd: norm1Rstd,
            contextNorm: contextNorm, contextNormMean: contextNormMean, contextNormRstd: contextNormRstd,
            query: layout.take(rows * d), key: layout.take(contextRows * d), value: layout.take(contextRows * d),
            probabilities: layout.take(attentionBatch * heads * queries * keys),
            attended: layout.take(rows * d), projected: layout.take(rows * d), residual: layout.take(rows * d),
            norm2: layout.take(rows * d), norm2Mean: layout.take(rows), norm2Rstd: layout.take(rows),
            fc1: layout.take(rows * hidden), gelu: layout.take(rows * hidden), fc2: layout.take(rows * d),
            output: layout.take(rows * d)
        )
    }

    /// Forward pass: reads `acts[input]` (and `acts[context]`), writes every activation of `a`.
    ///
    /// With `repeatedQueries` (cross-attention only), the input is `attentionBatch` copies of its
    /// first `queries` rows (the decoder's token queries, the same for every genome of a layout):
    /// `LN₁` and the query projection run on those rows once and are copied to the others, which
    /// leaves every activation as the full computation would (bit for bit), so `backward` is
    /// unchanged.
    func forward(
        _ p: UnsafePointer<Float>, _ acts: UnsafeMutablePointer<Float>, _ a: Activations, repeatedQueries: Bool = false
    ) {
        let d = width
        let x = acts + a.input
        let queryRows = repeatedQueries ? a.queries : a.rows
        precondition(!repeatedQueries || cross, "only cross-attention queries can be shared")
        layerNormForward(
            acts + a.norm1, acts + a.norm1Mean, acts + a.norm1Rstd, x, p + norm1Weight, p + norm1Bias, queryRows, d)
        if cross {
            layerNormForward(
                acts + a.contextNorm, acts + a.contextNormMean, acts + a.contextNormRstd,
                acts + a.context, p + contextNormWeight, p + contextNormBias, a.contextRows, d)
        }
        linearForward(acts + a.query, acts + a.norm1, p + queryWeight, p + queryBias, queryRows, d, d)
        if repeatedQueries {
            for b in 1..<a.attentionBatch {
                (acts + a.norm1 + b * queryRows * d).update(from: acts + a.norm1, count: queryRows * d)
                (acts + a.norm1Mean + b * queryRows).update(from: acts + a.norm1Mean, count: queryRows)
                (acts + a.norm1Rstd + b * queryRows).update(from: acts + a.norm1Rstd, count: queryRows)
                (acts + a.query + b * queryRows * d).update(from: acts + a.query, count: queryRows * d)
            }
        }
        linearForward(acts + a.key, acts + a.keyValueSource, p + keyWeight, p + keyBias, a.contextRows, d, d)
        linearForward(acts + a.value, acts + a.keyValueSource, p + valueWeight, p + valueBias, a.contextRows, d, d)
        attentionForward(
            acts + a.attended, acts + a.probabilities, acts + a.query, acts + a.key, acts + a.value,
            a.mask.map { UnsafePointer(acts + $0) }, a.attentionBatch, a.queries, a.keys, d, heads)
        linearForward(acts + a.projected, acts + a.attended, p + outputWeight, p + outputBias, a.rows, d, d)
        residualForward(acts + a.residual, x, acts + a.projected, a.rows * d)
        layerNormForward(
            acts + a.norm2, acts + a.norm2Mean, acts + a.norm2Rstd, acts + a.residual, p + norm2Weight, p + norm2Bias,
            a.rows, d)
        linearForward(acts + a.fc1, acts + a.norm2, p + fc1Weight, p + fc1Bias, a.rows, d, hidden)
        geluTanhForward(acts + a.gelu, acts + a.fc1, a.rows * hidden)
        linearForward(acts + a.fc2, acts + a.gelu, p + fc2Weight, p + fc2Bias, a.rows, hidden, d)
        residualForward(acts + a.output, acts + a.residual, acts + a.fc2, a.rows * d)
    }

    /// Backward pass: from `dacts[output]`, adds into the parameter gradients `dp` and into
    /// `dacts[input]` (and `dacts[context]`). `scratch` holds `queries · keys` floats.
    func backward(
        _ dp: UnsafeMutablePointer<Float>, _ dacts: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>,
        _ p: UnsafePointer<Float>, _ acts: UnsafePointer<Float>, _ a: Activations
    ) {
        let d = width
        residualBackward(dacts + a.residual, dacts + a.fc2, dacts + a.output, a.rows * d)
        linearBackward(
            dacts + a.gelu, dp + fc2Weight, dp + fc2Bias, dacts + a.fc2, acts + a.gelu, p + fc2Weight, a.rows, hidden, d
        )
        geluTanhBackward(dacts + a.fc1, acts + a.fc1, dacts + a.gelu, a.rows * hidden)
        linearBackward(
            dacts + a.norm2, dp + fc1Weight, dp + fc1Bias, dacts + a.fc1, acts + a.norm2, p + fc1Weight, a.rows, d,
            hidden)
        layerNormBackward(
            dacts + a.residual, dp + norm2Weight, dp + norm2Bias, dacts + a.norm2, acts + a.residual,
            p + norm2Weight, acts + a.norm2Mean, acts + a.norm2Rstd, a.rows, d)
        residualBackward(dacts + a.input, dacts + a.projected, dacts + a.residual, a.rows * d)
        linearBackward(
            dacts + a.attended, dp + outputWeight, dp + outputBias, dacts + a.projected, acts + a.attended,
            p + outputWeight, a.rows, d, d)
        attentionBackward(
            dacts + a.query, dacts + a.key, dacts + a.value, scratch, dacts + a.attended, acts + a.probabilities,
            acts + a.query, acts + a.key, acts + a.value, a.attentionBatch, a.queries, a.keys, d, heads)
        linearBackward(
            dacts + a.keyValueSource, dp + valueWeight, dp + valueBias, dacts + a.value, acts + a.keyValueSource,
            p + valueWeight, a.contextRows, d, d)
        linearBackward(
            dacts + a.keyValueSource, dp + keyWeight, dp + keyBias, dacts + a.key, acts + a.keyValueSource,
            p + keyWeight, a.contextRows, d, d)
        linearBackward(
            dacts + a.norm1, dp + queryWeight, dp + queryBias, dacts + a.query, acts + a.norm1, p + queryWeight, a.rows,
            d, d)
        if cross {
            layerNormBackward(
                dacts + a.context, dp + contextNormWeight, dp + contextNormBias, dacts + a.contextNorm,
                acts + a.context,
                p + contextNormWeight, acts + a.contextNormMean, acts + a.contextNormRstd, a.contextRows, d)
        }
        layerNormBackward(
            dacts + a.input, dp + norm1Weight, dp + norm1Bias, dacts + a.norm1, acts + a.input,
            p + norm1Weight, acts + a.norm1Mean, acts + a.norm1Rstd, a.rows, d)
    }
}
