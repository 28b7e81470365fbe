/// Per-feature standardisation `x' = (x − mean) / scale`, fitted on a training split.
///
/// `scale` is the population standard deviation `√(Σ (x − mean)² / N)` of the feature on the
/// training split, or 1 for a feature that is constant there (so it maps to 0 instead of dividing
/// by zero). The statistics are computed in float64. The value is `Codable` so a run stores it next
/// to its weights: a network trained on standardised features needs the same transform at use.
/// For regression the target may be standardised the same way (`target`).
public struct FeatureStandardization: Codable, Equatable, Sendable {
    /// Mean of each feature on the training split.
    public var means: [Float]
    /// Standard deviation of each feature on the training split (1 where it is 0).
    public var scales: [Float]
    /// Names of the features, in order (informational, lets a reader check the column order).
    public var featureNames: [String]
    /// The regression target's `(mean, scale)` on the training split, or `nil` when the target is
    /// used as is (classification).
    public var target: TargetScaling?

    /// Mean and scale of a regression target: the network predicts `(y − mean) / scale`.
    public struct TargetScaling: Codable, Equatable, Sendable {
        public var mean: Float
        public var scale: Float
    }

    public init(means: [Float], scales: [Float], featureNames: [String], target: TargetScaling? = nil) {
        precondition(means.count == scales.count && scales.allSatisfy { $0 > 0 }, "one positive scale per mean")
        self.means = means
        self.scales = scales
        self.featureNames = featureNames
        self.target = target
    }

    /// The standardisation fitted on `dataset` (features; and the target for regression when
    /// `standardizeTarget`).
    public init(fittedOn dataset: Dataset, standardizeTarget: Bool) {
        let (means, scales) = Self.meanAndScale(dataset.features, columns: dataset.featureCount)
        var target: TargetScaling?
        if standardizeTarget, case .values(let values) = dataset.targets {
            let (m, s) = Self.meanAndScale(values, columns: 1)
            target = TargetScaling(mean: m[0], scale: s[0])
        }
        self.init(means: means, scales: scales, featureNames: dataset.featureNames, target: target)
    }

    /// `dataset` with its features (and regression target, if `target` is set) standardised.
    public func apply(to dataset: Dataset) -> Dataset {
        precondition(dataset.featureCount == means.count, "feature count differs from the fitted standardisation")
        var result = dataset
        let f = dataset.featureCount
        for i in 0..<dataset.sampleCount {
            for j in 0..<f { result.features[i * f + j] = (dataset.features[i * f + j] - means[j]) / scales[j] }
        }
        if let target, case .values(let values) = dataset.targets {
            result.targets = .values(values.map { ($0 - target.mean) / target.scale })
        }
        return result
    }

    private static func meanAndScale(_ data: [Float], columns: Int) -> ([Float], [Float]) {
        let rows = data.count / columns
        var sum = [Double](repeating: 0, count: columns)
        for i in 0..<rows { for j in 0..<columns { sum[j] += Double(data[i * columns + j]) } }
        let mean = sum.map { $0 / Double(max(rows, 1)) }
        var squares = [Double](repeating: 0, count: columns)
        for i in 0..<rows {
            for j in 0..<columns {
                let d = Double(data[i * columns + j]) - mean[j]
                squares[j] += d * d
            }
        }
        let scale = squares.map { s -> Float in
            let std = Float((s / Double(max(rows, 1))).squareRoot())
            return std > 0 && std.isFinite ? std : 1
        }
        return (mean.map { Float($0) }, scale)
    }
}
