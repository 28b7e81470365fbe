import Foundation
import Kernels
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
        case .classes(let labels, let names):
            targets = .classes(labels.map { Int32($0) }, classCount: names.count, output: output)
        case .values(let values): targets = .values(values)
        }
    }

    public func forward(
        losses: UnsafeMutableBufferPointer<Float>, outputs: UnsafeBufferPointer<Float>, populationSize: Int,
        samples: Range<Int>
    ) {
        let B = samples.count
        let O = outputSize
        let first = samples.lowerBound
        precondition(first >= 0 && samples.upperBound <= sampleCount, "samples out of range")
        precondition(outputs.count >= populationSize * B * O && losses.count >= populationSize, "buffers too small")
        guard B > 0 else {
            for p in 0..<populationSize { losses[p] = 0 }
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
                for p in 0..<populationSize {
                    let zp = out + p * B * C
                    // Integer test (vectorises): is any |z| > 80, ∞ or NaN? Those bit patterns
                    // are exactly the ones above 80's once the sign bit is cleared:
                    // (limit − |bits|) wraps past 2³¹ exactly when |bits| > limit.
                    var outside: UInt32 = 0
                    let limit = Self.unshiftedLimitBits
                    UnsafeRawPointer(zp).withMemoryRebound(to: UInt32.self, capacity: B * C) { bits in
                        for i in 0..<B * C { outside |= (limit &- (bits[i] & 0x7FFF_FFFF)) >> 31 }
                    }
                    // poison stays 0, or becomes NaN when an output is NaN or ±∞ (0·∞ = NaN),
                    // which the clamped exponential would otherwise hide.
                    var poison: Float = 0
                    if outside == 0 && C <= Self.unshiftedMaxClasses {
                        // Every |z| ≤ 80: Σ exp(z) is a normal float without the shift (m = 0).
                        for b in 0..<B { maxima[b] = 0 }
                        fastExp(exps.baseAddress!, zp, count: B * C)
                    } else {
                        for b in 0..<B {
                            let z = zp + b * C
                            var m = z[0]
                            for k in 0..<C {
                                m = Swift.max(m, z[k])
                                poison += z[k] * 0
                            }
                            maxima[b] = m
                            for k in 0..<C { exps[b * C + k] = z[k] - m }
                        }
                        fastExp(exps)
                    }
                    for b in 0..<B {
                        var s: Float = 0
                        for k in 0..<C { s += exps[b * C + k] }
                        logSums[b] = s
                    }
                    for b in 0..<B { logSums[b] = fastLog(logSums[b]) }
                    var sum = 0.0
                    for b in 0..<B { sum += Double(maxima[b] + logSums[b] - zp[b * C + Int(y[first + b])]) }
                    losses[p] = Float(sum / Double(B)) + poison
                }
            }
        case .classes(let labels, let C, .probabilities):
            labels.withUnsafeBufferPointer { y in
                for p in 0..<populationSize {
                    var sum = 0.0
                    for b in 0..<B { sum -= Double(logf(Swift.max(out[(p * B + b) * C + Int(y[first + b])], 1e-30))) }
                    losses[p] = Float(sum / Double(B))
                }
            }
        case .values(let values):
            values.withUnsafeBufferPointer { t in
                for p in 0..<populationSize {
                    var sum = 0.0
                    for b in 0..<B {
                        let d = Double(out[p * B + b]) - Double(t[first + b])
                        sum += d * d
                    }
                    losses[p] = Float(sum / Double(B))
                }
            }
        }
    }

    /// Adds to `sums[p]` the loss of genome `p` summed (not averaged) over `samples`, reading
    /// feature-major outputs as `Network.forwardFeatureMajor` gives them: (genomeCount, O, m), output
    /// `o` of sample `samples.lowerBound + b` at `(p·O + o)·m + b`.
    ///
    /// The same losses as `forward`. For logits every step runs along the samples, which the
    /// compiler vectorises: the row maxima `m_b`, `s_b = Σ_k exp(z_{k,b} − m_b)`, then
    /// `ℓ_b = m_b + log s_b − z_{y_b,b}`, plus `Σ_k z_{k,b}·0`, which is 0 unless a logit is NaN or
    /// ±∞ and then makes the loss NaN.
    /// Sums are accumulated in float64 in sample order.
    public func accumulateFeatureMajor(
        sums: UnsafeMutablePointer<Double>, outputs: UnsafePointer<Float>, genomeCount: Int, samples: Range<Int>
    ) {
        let m = samples.count
        let O = outputSize
        let first = samples.lowerBound
        precondition(first >= 0 && samples.upperBound <= sampleCount, "samples out of range")
        guard m > 0 else { return }
        switch targets {
        case .classes(let labels, let C, .logits):
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * m) { scratch in
                let maxima = scratch.baseAddress!
                let expSums = maxima + m
                let poison = expSums + m
                labels.withUnsafeBufferPointer { y in
                    for p in 0..<genomeCount {
                        let z = outputs + p * C * m
                        // poison_b = Σ_k z_{k,b}·0: 0, or NaN when a logit is NaN or ±∞.
                        for b in 0..<m {
                            maxima[b] = z[b]
                            poison[b] = z[b] * 0
                        }
                        for k in 1..<C {
                            let row = z + k * m
                            for b in 0..<m {
                                maxima[b] = Swift.max(maxima[b], row[b])
                                poison[b] += row[b] * 0
                            }
                        }
                        for b in 0..<m { expSums[b] = 0 }
                        for k in 0..<C {
                            let row = z + k * m
                            for b in 0..<m { expSums[b] += fastExpNonPositive(row[b] - maxima[b]) }
                        }
                        // m_b + log s_b (vectorised), then the gather of z_{y_b,b}.
                        for b in 0..<m { expSums[b] = maxima[b] + fastLog(expSums[b]) + poison[b] }
                        var sum = 0.0
                        for b in 0..<m { sum += Double(expSums[b] - z[Int(y[first + b]) * m + b]) }
                        sums[p] += sum
                    }
                }
            }
        case .classes(let labels, let C, .probabilities):
            labels.withUnsafeBufferPointer { y in
                for p in 0..<genomeCount {
                    var sum = 0.0
                    for b in 0..<m {
                        sum -= Double(logf(Swift.max(outputs[(p * C + Int(y[first + b])) * m + b], 1e-30)))
                    }
                    sums[p] += sum
                }
            }
        case .values(let values):
            precondition(O == 1)
            values.withUnsafeBufferPointer { t in
                for p in 0..<genomeCount {
                    var sum = 0.0
                    for b in 0..<m {
                        let d = Double(outputs[p * m + b]) - Double(t[first + b])
                        sum += d * d
                    }
                    sums[p] += sum
                }
            }
        }
    }

    /// Adds to `correct[p]` the number of `samples` whose largest output is the label, from
    /// feature-major outputs laid out as for `accumulateFeatureMajor` (the first largest wins, as in
    /// `correctCounts`). Does nothing for regression targets.
    func accumulateCorrectFeatureMajor(
        correct: UnsafeMutablePointer<Int>, outputs: UnsafePointer<Float>, genomeCount: Int, samples: Range<Int>
    ) {
        guard case .classes(let labels, let C, _) = targets else { return }
        let m = samples.count
        let first = samples.lowerBound
        guard m > 0 else { return }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: m) { bestValues in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: m) { best in
                labels.withUnsafeBufferPointer { y in
                    for p in 0..<genomeCount {
                        let z = outputs + p * C * m
                        for b in 0..<m {
                            bestValues[b] = -.infinity
                            best[b] = 0
                        }
                        for k in 0..<C {
                            let row = z + k * m
                            for b in 0..<m where row[b] > bestValues[b] {
                                bestValues[b] = row[b]
                                best[b] = Int32(k)
                            }
                        }
                        var count = 0
                        for b in 0..<m where best[b] == y[first + b] { count += 1 }
                        correct[p] += count
                    }
                }
            }
        }
    }

    public func backward(
        dOutputs: UnsafeMutableBufferPointer<Float>, outputs: UnsafeBufferPointer<Float>,
        dLosses: UnsafeBufferPointer<Float>, populationSize: Int, samples: Range<Int>
    ) {
        let B = samples.count
        let O = outputSize
        precondition(samples.lowerBound >= 0 && samples.upperBound <= sampleCount, "samples out of range")
        precondition(
            outputs.count >= populationSize * B * O && dOutputs.count >= populationSize * B * O, "buffers too small")
        for p in 0..<populationSize {
            let scale = dLosses[p] / Float(B)
            for b in 0..<B {
                let z = outputs.baseAddress! + (p * B + b) * O
                let dz = dOutputs.baseAddress! + (p * B + b) * O
                let sample = samples.lowerBound + b
                switch targets {
                case .classes(let labels, _, .logits):
                    let y = Int(labels[sample])
                    var m = z[0]
                    for k in 1..<O { m = max(m, z[k]) }
                    var s: Float = 0
                    for k in 0..<O { s += fastExp(z[k] - m) }
                    for k in 0..<O { dz[k] += scale * (fastExp(z[k] - m) / s - (k == y ? 1 : 0)) }
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
    func correctCounts(
        _ correct: inout [Int], outputs: UnsafeBufferPointer<Float>, populationSize: Int, samples: Range<Int>
    ) {
        guard case .classes(let labels, let C, _) = targets else { return }
        let B = samples.count
        for p in 0..<populationSize {
            var count = 0
            for b in 0..<B {
                let z = outputs.baseAddress! + (p * B + b) * C
                var best = 0
                var bestValue = -Float.infinity
                for k in 0..<C where z[k] > bestValue {
                    best = k
                    bestValue = z[k]
                }
                if best == Int(labels[samples.lowerBound + b]) { count += 1 }
            }
            correct[p] = count
        }
    }
}
