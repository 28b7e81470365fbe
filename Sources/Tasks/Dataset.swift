import Kernels

/// A supervised dataset held in memory: `N` samples of `F` features, row-major, and a target each.
///
/// Classification targets are class indices `0 ..< classCount`; regression targets are one real
/// value per sample. Datasets are built by `CSVTable`/`CSVDataset`, `DigitsDataset`, or directly.
public struct Dataset: Sendable {
    /// What the target of each sample is.
    public enum Targets: Sendable, Equatable {
        /// Class indices in `0 ..< names.count`; `names[k]` is the original label of class `k`.
        case classes([Int], names: [String])
        /// One real value per sample.
        case values([Float])
    }

    /// Features, `[sampleCount × featureCount]`, row-major.
    public var features: [Float]
    /// Number of features per sample.
    public let featureCount: Int
    /// Names of the features (the CSV header, or `pixel0 …` for digits).
    public let featureNames: [String]
    /// The targets.
    public var targets: Targets

    /// Number of samples.
    public var sampleCount: Int { featureCount == 0 ? 0 : features.count / featureCount }

    /// Number of classes for classification, `nil` for regression.
    public var classCount: Int? {
        if case .classes(_, let names) = targets { return names.count }
        return nil
    }

    public init(features: [Float], featureCount: Int, featureNames: [String], targets: Targets) {
        precondition(featureCount > 0 && features.count % featureCount == 0, "features must be [N × featureCount]")
        precondition(featureNames.count == featureCount, "one name per feature")
        let n = features.count / featureCount
        switch targets {
        case .classes(let labels, let names):
            precondition(
                labels.count == n && labels.allSatisfy { $0 >= 0 && $0 < names.count }, "one class index per sample")
        case .values(let values):
            precondition(values.count == n, "one target value per sample")
        }
        self.features = features
        self.featureCount = featureCount
        self.featureNames = featureNames
        self.targets = targets
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        var rows = [Float]()
        rows.reserveCapacity(indices.count * featureCount)
        for i in indices { rows.append(contentsOf: features[i * featureCount..<(i + 1) * featureCount]) }
        let picked: Targets
        switch targets {
        case .classes(let labels, let names): picked = .classes(indices.map { labels[$0] }, names: names)
        case .values(let values): picked = .values(indices.map { values[$0] })
        }
        return Dataset(features: rows, featureCount: featureCount, featureNames: featureNames, targets: picked)
    }

    /// A seeded train/test split; stratified by class for classification.
    ///
    /// For each class (or for all samples, for regression) the sample indices are shuffled with the
    /// stream `RandomStream(seed: seed, purpose: "train-test-split")` (one stream, classes taken in
    /// order) and the first `round(count × testFraction)` go to the test split. Each split keeps the
    /// samples in their original file order, so the split depends only on the data, the fraction and
    /// the seed.
    ///
    /// - Parameters:
    ///   - testFraction: share of each class held out for testing, in `[0, 1)`.
    ///   - seed: the split's seed.
    /// - Returns: `(train, test)`.
    public func split(testFraction: Double, seed: UInt64) -> (train: Dataset, test: Dataset) {
        precondition(testFraction >= 0 && testFraction < 1, "testFraction must be in [0, 1)")
        var stream = RandomStream(seed: seed, purpose: "train-test-split")
        var groups: [[Int]]
        switch targets {
        case .classes(let labels, let names):
            groups = Array(repeating: [], count: names.count)
            for (i, label) in labels.enumerated() { groups[label].append(i) }
        case .values:
            groups = [Array(0..<sampleCount)]
        }
        var trainIndices: [Int] = []
        var testIndices: [Int] = []
        for var group in groups {
            stream.shuffle(&group)
            let testCount = Int((Double(group.count) * testFraction).rounded())
            testIndices += group[0..<testCount]
            trainIndices += group[testCount...]
        }
        return (subset(trainIndices.sorted()), subset(testIndices.sorted()))
    }
}
