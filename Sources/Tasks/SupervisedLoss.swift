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

    /// `probabilities` when the network ends in `softmax` (ignoring nothing after it), else `logits`.
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
/// and for probability outputs `p` (a final softmax): `ℓ = −log max(p_y, 1e−30)`,
/// `∂ℓ/∂p_y = −1/max(p_y, 1e−30)`. Regression, one output `o`, target `t`: `ℓ = (o − t)²`,
/// `∂ℓ/∂o = 2(o − t)`. A genome's loss is the mean of `ℓ` over the samples, so its gradient
/// carries a factor `1/B`. Sums are accumulated in float64.
public struct SupervisedLoss: DifferentiableLoss, Sendable {
    /// Labels or values of each sample.
    public enum Targets: Sendable {
        case classes([Int32], classCount: Int, output: ClassifierOutput)
        case values([Float])
    }

    public let inputs: [Float]
    public let inputSize: Int
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
        let B = samples.count, O = outputSize
        precondition(samples.lowerBound >= 0 && samples.upperBound <= sampleCount, "samples out of range")
        precondition(outputs.count >= populationSize * B * O && losses.count >= populationSize, "buffers too small")
        for p in 0 ..< populationSize {
            var sum = 0.0
            for b in 0 ..< B {
                sum += sampleLoss(outputs.baseAddress! + (p * B + b) * O, sample: samples.lowerBound + b)
            }
            losses[p] = Float(sum / Double(max(B, 1)))
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
                    for k in 0 ..< O { s += expf(z[k] - m) }
                    for k in 0 ..< O { dz[k] += scale * (expf(z[k] - m) / s - (k == y ? 1 : 0)) }
                case .classes(let labels, _, .probabilities):
                    let y = Int(labels[sample])
                    dz[y] += scale * (-1 / max(z[y], 1e-30))
                case .values(let values):
                    dz[0] += scale * 2 * (z[0] - values[sample])
                }
            }
        }
    }

    /// The loss `ℓ` of one sample's outputs at `z`.
    @inline(__always)
    func sampleLoss(_ z: UnsafePointer<Float>, sample: Int) -> Double {
        switch targets {
        case .classes(let labels, let C, .logits):
            var m = z[0]
            for k in 1 ..< C { m = max(m, z[k]) }
            var s: Float = 0
            for k in 0 ..< C { s += expf(z[k] - m) }
            return Double(m + logf(s) - z[Int(labels[sample])])
        case .classes(let labels, _, .probabilities):
            return -Double(logf(max(z[Int(labels[sample])], 1e-30)))
        case .values(let values):
            let d = Double(z[0]) - Double(values[sample])
            return d * d
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
