import Foundation
import Networks

/// How to read a classifier's outputs.
public enum ClassifierOutput: Sendable, Equatable {
    /// Unnormalised scores `z` (a final linear layer), or log-probabilities (a final `log_softmax`).
    ///
    /// Log-probabilities are logits too: `log_softmax(z)` differs from `z` by a per-sample constant,
    /// so `lse(z) − z_y` gives the same loss, and the gradient `softmax(z) − onehot(y)` sent back
    /// through `log_softmax` equals the gradient of `−z_y` sent back through it.
    case logits
    /// Probabilities (a final `softmax`): loss `−log max(p_y, 1e−30)`.
    case probabilities

    /// `probabilities` when the spec's last layer is `softmax`, else `logits`.
    public init(spec: NetworkSpec) {
        if case .activation(.softmax) = spec.layers.last {
            self = .probabilities
        } else {
            self = .logits
        }
    }
}

/// The mean loss of a network's outputs on the training split of a dataset, with its gradient.
///
/// Classification, `C` classes, label `y`, outputs `z` (logits):
///
///     ℓ = lse(z) − z_y,   lse(z) = m + log Σ_k exp(z_k − m),  m = max_k z_k   (stable log-sum-exp)
///     ∂ℓ/∂z_k = softmax(z)_k − [k = y]
///
/// The shift `m` is skipped when every logit of a genome's batch has `|z| ≤ 80` and there are at
/// most 1,000 classes, where no float over- or underflows; `exp` and `log` are the vectorising
/// `fastExp`/`fastLog`, within 3·10⁻⁷ relative. For probability outputs `p` (a final softmax):
/// `ℓ = −log max(p_y, 1e−30)`, `∂ℓ/∂p_y = −1/max(p_y, 1e−30)`.
///
/// Regression, one output `o`, target `t`: `ℓ = (o − t)²`, `∂ℓ/∂o = 2(o − t)`. A genome's loss is the mean of `ℓ` over the samples, so its gradient
/// carries a factor `1/B`. Sums are accumulated in float64.
public struct SupervisedLoss: DifferentiableLoss, Sendable {
    /// Labels or values of each sample.
    public enum Targets: Sendable {
        case classes([Int32], classCount: Int, output: ClassifierOutput)
        case values([Float])
    }

    public let inputs: [Float]
    public let inputSize: Int
    /// Below this magnitude of every logit, `lse(z) = log Σ exp(z)` is computed without the max
    /// shift: e^±80 are normal floats, and so is a sum of up to `unshiftedMaxClasses` of them.
    static let unshiftedLimit: Float = 80
    static let unshiftedLimitBits = unshiftedLimit.bitPattern
    /// Up to this many classes the unshifted sum (≤ 1000 · e⁸⁰ ≈ 5.5·10³⁷) stays finite.
    static let unshiftedMaxClasses = 1000
    public let targets: Targets

    public var name: String {
        if case .values = targets { return "mse" }
        return "cross_entropy"
    }

    public var outputSize: Int {
        switch targets {
        case .classes(_, let classCount, _): classCount
        case .values: 1
        }
    }

    public var sampleCount: Int { inputs.count / inputSize }

    /// The loss on `dataset` (its features are the inputs), reading classifier outputs as `output`.
    public init(dataset: Dataset, output: ClassifierOutput) {
        inputs = dataset.features
        inputSize = dataset.featureCount
        switch dataset.targets {
        case .classes(let labels, let names): targets = .classes(labels.map { Int32($0) }, classCount: names.count, output: output)
        case .values(let values): targets = .values(values)
        }
    }

    public func forward(losses: UnsafeMutableBufferPointer<Float>, outputs: UnsafeBufferPointer<Float>, populationSize: Int, samples: Range<Int>) {
        let B = samples.count, O = outputSize, first = samples.lowerBound
        precondition(first >= 0 && samples.upperBound <= sampleCount, "samples out of range")
        precondition(outputs.count >= populationSize * B * O && losses.count >= populationSize, "buffers too small")
        guard B > 0 else {
            for p in 0 ..< populationSize { losses[p] = 0 }
            return
        }
        let out = outputs.baseAddress!
        switch targets {
        case .classes(let labels, let C, .logits):
            // Per genome, in flat passes the compiler vectorises: exp of the genome's whole
            // [B × C] block, the row sums, their logarithms; then Σ_b (m_b + log s_b − z_{b,y}).
            let exps = UnsafeMutableBufferPointer<Float>.allocate(capacity: B * C)
            let maxima = UnsafeMutableBufferPointer<Float>.allocate(capacity: B)
            let logSums = UnsafeMutableBufferPointer<Float>.allocate(capacity: B)
            defer {
                exps.deallocate()
                maxima.deallocate()
                logSums.deallocate()
            }
            labels.withUnsafeBufferPointer { y in
                for p in 0 ..< populationSize {
                    let zp = out + p * B * C
                    // Integer test (vectorises): is any |z| > 80, ∞ or NaN? Those bit patterns
                    // are exactly the ones above 80's once the sign bit is cleared:
                    // (limit − |bits|) wraps past 2³¹ exactly when |bits| > limit.
                    var outside: UInt32 = 0
                    let limit = Self.unshiftedLimitBits
                    UnsafeRawPointer(zp).withMemoryRebound(to: UInt32.self, capacity: B * C) { bits in
                        for i in 0 ..< B * C { outside |= (limit &- (bits[i] & 0x7FFF_FFFF)) >> 31 }
                    }
                    // poison stays 0, or becomes NaN when an output is NaN or ±∞ (0·∞ = NaN),
                    // which the clamped exponential would otherwise hide.
                    var poison: Float = 0
                    if outside == 0 && C <= Self.unshiftedMaxClasses {
                        // Every |z| ≤ 80: Σ exp(z) is a normal float without the shift (m = 0).
                        for b in 0 ..< B { maxima[b] = 0 }
                        fastExp(exps.baseAddress!, zp, count: B * C)
                    } else {
                        for b in 0 ..< B {
                            let z = zp + b * C
                            var m = z[0]
                            for k in 0 ..< C {
                                m = Swift.max(m, z[k])
                                poison += z[k] * 0
                            }
                            maxima[b] = m
                            for k in 0 ..< C { exps[b * C + k] = z[k] - m }
                        }
                        fastExp(exps)
                    }
                    for b in 0 ..< B {
                        var s: Float = 0
                        for k in 0 ..< C { s += exps[b * C + k] }
                        logSums[b] = s
                    }
                    for b in 0 ..< B { logSums[b] = fastLog(logSums[b]) }
                    var sum = 0.0
                    for b in 0 ..< B { sum += Double(maxima[b] + logSums[b] - zp[b * C + Int(y[first + b])]) }
                    losses[p] = Float(sum / Double(B)) + poison
                }
            }
        case .classes(let labels, let C, .probabilities):
            labels.withUnsafeBufferPointer { y in
                for p in 0 ..< populationSize {
                    var sum = 0.0
                    for b in 0 ..< B { sum -= Double(logf(Swift.max(out[(p * B + b) * C + Int(y[first + b])], 1e-30))) }
                    losses[p] = Float(sum / Double(B))
                }
            }
        case .values(let values):
            values.withUnsafeBufferPointer { t in
                for p in 0 ..< populationSize {
                    var sum = 0.0
                    for b in 0 ..< B {
                        let d = Double(out[p * B + b]) - Double(t[first + b])
                        sum += d * d
                    }
                    losses[p] = Float(sum / Double(B))
                }
            }
        }
    }

    public func backward(
        dOutputs: UnsafeMutableBufferPointer<Float>, outputs: UnsafeBufferPointer<Float>,
        dLosses: UnsafeBufferPointer<Float>, populationSize: Int, samples: Range<Int>
    ) {
        let B = samples.count, O = outputSize
        precondition(samples.lowerBound >= 0 && samples.upperBound <= sampleCount, "samples out of range")
        precondition(outputs.count >= populationSize * B * O && dOutputs.count >= populationSize * B * O, "buffers too small")
        for p in 0 ..< populationSize {
            let scale = dLosses[p] / Float(B)
            for b in 0 ..< B {
                let z = outputs.baseAddress! + (p * B + b) * O
                let dz = dOutputs.baseAddress! + (p * B + b) * O
                let sample = samples.lowerBound + b
                switch targets {
                case .classes(let labels, _, .logits):
                    let y = Int(labels[sample])
                    var m = z[0]
                    for k in 1 ..< O { m = max(m, z[k]) }
                    var s: Float = 0
                    for k in 0 ..< O { s += fastExp(z[k] - m) }
                    for k in 0 ..< O { dz[k] += scale * (fastExp(z[k] - m) / s - (k == y ? 1 : 0)) }
                case .classes(let labels, _, .probabilities):
                    let y = Int(labels[sample])
                    dz[y] += scale * (-1 / max(z[y], 1e-30))
                case .values(let values):
                    dz[0] += scale * 2 * (z[0] - values[sample])
                }
            }
        }
    }

    /// The share of `samples` whose largest output is the label, for each of `populationSize`
    /// genomes (`correct[p]` receives the count of correct samples).
    func correctCounts(_ correct: inout [Int], outputs: UnsafeBufferPointer<Float>, populationSize: Int, samples: Range<Int>) {
        guard case .classes(let labels, let C, _) = targets else { return }
        let B = samples.count
        for p in 0 ..< populationSize {
            var count = 0
            for b in 0 ..< B {
                let z = outputs.baseAddress! + (p * B + b) * C
                var best = 0
                var bestValue = -Float.infinity
                for k in 0 ..< C where z[k] > bestValue {
                    best = k
                    bestValue = z[k]
                }
                if best == Int(labels[samples.lowerBound + b]) { count += 1 }
            }
            correct[p] = count
        }
    }
}
