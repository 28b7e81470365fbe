import Foundation
import Kernels
import Networks

/// Fitness on a supervised dataset: the network's loss or accuracy on the training split, or on a
/// minibatch of it.
///
/// Without `batch`, every genome sees the whole training split (no minibatch noise, so fitness
/// does not depend on the generation). With `batch: B`, generation `g` scores every genome on the
/// same `B` distinct training samples, drawn by the stream `RandomStream(seed: seed, generation: g,
/// purpose: "minibatch")` (see `minibatchIndices`): every island and rank draws the same batch, so
/// a run gives the same bits on any rank count, and survivors are scored again each generation
/// (`rescoresSurvivors`). The test split is only reported. Classification fitness is
/// `neg_cross_entropy` (−mean cross-entropy, the default) or `accuracy` (share of samples whose
/// largest output is the label); regression fitness is `neg_mse` on the standardised target.
/// A non-finite fitness (a network producing NaN or ∞) is reported as −∞. Networks that
/// `Network.forwardFeatureMajor` runs (MLPs) are scored tile by tile, each tile's outputs going
/// to the loss while they are in cache; other networks compute the whole split's outputs first.
public final class DatasetTask: FitnessTask, Sendable {
    /// What the fitness measures.
    public enum Fitness: String, Codable, Sendable, CaseIterable {
        case negCrossEntropy = "neg_cross_entropy"
        case accuracy
        case negMSE = "neg_mse"
    }

    public let name: String
    /// The training split (fitness), standardised if `standardization` is set.
    public let train: Dataset
    /// The held-out split (reported only), with the training split's standardisation.
    public let test: Dataset
    /// The feature (and regression target) standardisation fitted on the training split, for a
    /// run to store next to its weights; `nil` when the features are used as given (digits).
    public let standardization: FeatureStandardization?
    public let fitness: Fitness
    /// Training samples per generation (minibatch fitness); `nil` scores the whole training split.
    public let batch: Int?
    public var fitnessName: String { fitness.rawValue }
    /// True with minibatch fitness: scores of different generations come from different samples.
    public var rescoresSurvivors: Bool { batch != nil }
    public var inputSize: Int? { train.featureCount }
    public var outputSize: Int? { train.classCount ?? 1 }

    /// Floats of network outputs computed at once; genomes are scored in groups that fit.
    let outputScratchFloats = 1 << 20

    /// - Parameter batch: training samples per generation, in `1 ... train.sampleCount`; `nil`
    ///   for the whole split.
    /// - Throws: `TaskError.invalidOption` if `fitness` does not suit the targets (accuracy or
    ///   cross-entropy for regression, `neg_mse` for classification), the training split is empty
    ///   or `batch` is out of range.
    public init(
        name: String, train: Dataset, test: Dataset, fitness: Fitness, standardization: FeatureStandardization? = nil,
        batch: Int? = nil
    ) throws {
        let classification = train.classCount != nil
        guard classification == (fitness != .negMSE) else {
            throw TaskError.invalidOption(
                "task \(name): fitness \(fitness.rawValue) does not apply to \(classification ? "classification" : "regression"); use "
                    + (classification ? "neg_cross_entropy or accuracy" : "neg_mse"))
        }
        guard train.sampleCount > 0 else {
            throw TaskError.invalidOption(
                "task \(name): the training split is empty; lower the test fraction or add samples")
        }
        if let batch, batch < 1 || batch > train.sampleCount {
            throw TaskError.invalidOption(
                "task \(name): batch must be in 1 ... \(train.sampleCount) (the training samples), got \(batch)")
        }
        self.name = name
        self.batch = batch
        self.train = train
        self.test = test
        self.fitness = fitness
        self.standardization = standardization
    }

    /// The bundled digits: pixels / 16, stratified split (`testFraction` of each class held out),
    /// no further standardisation.
    ///
    /// - Parameter data: explicit path of `digits.csv.gz` or its folder; see `DataDirectory`.
    public static func digits(
        fitness: Fitness = .negCrossEntropy, testFraction: Double = 0.2, splitSeed: UInt64 = 0, data: String? = nil,
        batch: Int? = nil
    ) throws -> DatasetTask {
        let (train, test) = try DigitsDataset.load(data: data).split(testFraction: testFraction, seed: splitSeed)
        return try DatasetTask(name: "digits", train: train, test: test, fitness: fitness, batch: batch)
    }

    /// Fashion-MNIST with its published split (60,000 / 10,000), pixels / 255, no further
    /// standardisation; see `FashionMNIST`.
    ///
    /// - Parameters:
    ///   - folder: a folder of the four IDX files; `nil` reads the Debian package's.
    ///   - limit: at most this many samples per split (tests).
    public static func fashionMNIST(
        fitness: Fitness = .negCrossEntropy, folder: String? = nil, batch: Int? = nil, limit: Int? = nil
    ) throws -> DatasetTask {
        let (train, test) = try FashionMNIST.load(folder: folder, limit: limit)
        return try DatasetTask(name: "fashion-mnist", train: train, test: test, fitness: fitness, batch: batch)
    }

    /// Any MNIST-format folder (`IDXDataset`): its published split, pixels / 255.
    public static func idx(folder: String, fitness: Fitness = .negCrossEntropy, batch: Int? = nil) throws -> DatasetTask
    {
        let (train, test) = try IDXDataset.load(folder: folder)
        return try DatasetTask(name: "idx:\(folder)", train: train, test: test, fitness: fitness, batch: batch)
    }

    /// Any CSV file with a header row: `target` (a column name or 1-based number; last column if
    /// `nil`) is the target, every other column a numeric feature. The split is stratified for
    /// classification; features (and a regression target) are standardised with statistics of the
    /// training split.
    public static func csv(
        path: String, target: String?, kind: CSVDataset.Kind, fitness: Fitness? = nil,
        testFraction: Double = 0.2, splitSeed: UInt64 = 0, batch: Int? = nil
    ) throws -> DatasetTask {
        let table = try CSVTable(contentsOf: path, hasHeader: true)
        let dataset = try CSVDataset.make(from: table, target: target, kind: kind)
        let (rawTrain, rawTest) = dataset.split(testFraction: testFraction, seed: splitSeed)
        let standardization = FeatureStandardization(fittedOn: rawTrain, standardizeTarget: kind == .regression)
        return try DatasetTask(
            name: "csv:\(path)", train: standardization.apply(to: rawTrain), test: standardization.apply(to: rawTest),
            fitness: fitness ?? (kind == .regression ? .negMSE : .negCrossEntropy), standardization: standardization,
            batch: batch)
    }

    /// The training samples of generation `generation`'s minibatch, in increasing order.
    ///
    /// The first `B` positions of a partial Fisher–Yates shuffle of `0 ..< N` (position `i` swapped
    /// with `i + below(N − i)`) drawn with `RandomStream(seed: seed, generation: generation,
    /// purpose: "minibatch")`: `B` distinct samples, each `B`-subset equally likely, independent of
    /// island and rank. All samples when `batch` is `nil`.
    public func minibatchIndices(generation: Int, seed: UInt64) -> [Int] {
        let N = train.sampleCount
        guard let B = batch, B < N else { return Array(0..<N) }
        var stream = RandomStream(seed: seed, generation: generation, purpose: "minibatch")
        var order = Array(0..<N)
        for i in 0..<B { order.swapAt(i, i + stream.below(N - i)) }
        return order[0..<B].sorted()
    }

    public func evaluate(
        genomes: UnsafeBufferPointer<Float>, populationSize: Int, network: Network,
        generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>
    ) throws {
        let (train, loss) = try scoredSamples(network: network, generation: generation, seed: seed)
        let N = train.sampleCount
        let O = loss.outputSize
        let n = network.parameterCount
        if network.supportsFeatureMajorForward {
            train.features.withUnsafeBufferPointer { x in
                scoreFeatureMajor(loss, populationSize: populationSize, fitness: fitness) { body in
                    network.forwardFeatureMajor(
                        genomes: genomes, populationSize: populationSize, inputs: x, batchSize: N, body: body)
                }
            }
            return
        }
        let group = max(1, min(populationSize, outputScratchFloats / (N * O)))
        // Uninitialised: the forward pass writes every output before it is read.
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: group * N * O)
        defer { out.deallocate() }
        var losses = [Float](repeating: 0, count: group)
        var correct = [Int](repeating: 0, count: group)
        train.features.withUnsafeBufferPointer { x in
            for g0 in stride(from: 0, to: populationSize, by: group) {
                let g = min(group, populationSize - g0)
                network.forward(
                    genomes: UnsafeBufferPointer(rebasing: genomes[g0 * n..<(g0 + g) * n]), populationSize: g,
                    inputs: x, batchSize: N, sharedInputs: true, outputs: out)
                let computed = UnsafeBufferPointer(out)
                switch self.fitness {
                case .negCrossEntropy, .negMSE:
                    losses.withUnsafeMutableBufferPointer { l in
                        loss.forward(losses: l, outputs: computed, populationSize: g, samples: 0..<N)
                    }
                    for p in 0..<g { fitness[g0 + p] = Self.finiteOrWorst(-losses[p]) }
                case .accuracy:
                    loss.correctCounts(&correct, outputs: computed, populationSize: g, samples: 0..<N)
                    for p in 0..<g { fitness[g0 + p] = Float(correct[p]) / Float(N) }
                }
            }
        }
    }

    public func supportsLowRank(_ network: Network) -> Bool { network.supportsFeatureMajorForward }

    public func evaluate(
        lowRank: LowRankGenomes, populationSize: Int, network: Network,
        generation: Int, seed: UInt64, fitness: UnsafeMutableBufferPointer<Float>
    ) throws {
        let (train, loss) = try scoredSamples(network: network, generation: generation, seed: seed)
        train.features.withUnsafeBufferPointer { x in
            scoreFeatureMajor(loss, populationSize: populationSize, fitness: fitness) { body in
                network.forwardFeatureMajor(
                    lowRank: lowRank, populationSize: populationSize, inputs: x, batchSize: train.sampleCount,
                    body: body)
            }
        }
    }

    /// The training samples generation `generation` is scored on (its minibatch, or all of them)
    /// and their loss for `network`, once the network is checked against the task.
    private func scoredSamples(network: Network, generation: Int, seed: UInt64) throws -> (Dataset, SupervisedLoss) {
        try checkCompatible(network)
        let train = batch == nil ? self.train : self.train.subset(minibatchIndices(generation: generation, seed: seed))
        return (train, SupervisedLoss(dataset: train, output: ClassifierOutput(spec: network.spec)))
    }

    /// The fitness of `populationSize` genomes from a feature-major forward (`forward` runs it with
    /// the body it is given): each tile's loss or correct count accumulated as soon as it is computed.
    private func scoreFeatureMajor(
        _ loss: SupervisedLoss, populationSize: Int, fitness: UnsafeMutableBufferPointer<Float>,
        forward: ((_ first: Int, _ count: Int, _ samples: Range<Int>, _ outputs: UnsafePointer<Float>) -> Void) -> Void
    ) {
        let N = loss.sampleCount
        var sums = [Double](repeating: 0, count: populationSize)
        var correct = [Int](repeating: 0, count: populationSize)
        sums.withUnsafeMutableBufferPointer { sums in
            correct.withUnsafeMutableBufferPointer { correct in
                forward { first, count, samples, outputs in
                    if self.fitness == .accuracy {
                        loss.accumulateCorrectFeatureMajor(
                            correct: correct.baseAddress! + first, outputs: outputs, genomeCount: count,
                            samples: samples)
                    } else {
                        loss.accumulateFeatureMajor(
                            sums: sums.baseAddress! + first, outputs: outputs, genomeCount: count, samples: samples)
                    }
                }
            }
        }
        for p in 0..<populationSize {
            fitness[p] =
                self.fitness == .accuracy
                ? Float(correct[p]) / Float(N) : Self.finiteOrWorst(-Float(sums[p] / Double(N)))
        }
    }

    public func probeInputs(count: Int, seed: UInt64) -> [Float]? {
        var stream = RandomStream(seed: seed, purpose: "probe-inputs")
        var indices = Array(0..<train.sampleCount)
        stream.shuffle(&indices)
        let f = train.featureCount
        var probe = [Float]()
        probe.reserveCapacity(count * f)
        for i in 0..<count {
            let row = indices[i % indices.count]
            probe += train.features[row * f..<(row + 1) * f]
        }
        return probe
    }

    public func differentiableLoss(for network: Network) -> (any DifferentiableLoss)? {
        SupervisedLoss(dataset: train, output: ClassifierOutput(spec: network.spec))
    }

    public func report(genome: [Float], network: Network, generation: Int, seed: UInt64) throws -> TaskReport {
        try checkCompatible(network)
        let fitnessValue = try evaluate(
            genomes: genome, populationSize: 1, network: network, generation: generation, seed: seed)[0]
        // A split with no samples (a test fraction of 0) is left out.
        let splits = [("train", train), ("test", test)].filter { $0.1.sampleCount > 0 }.map {
            splitMetrics($0.0, $0.1, genome: genome, network: network)
        }
        return TaskReport(task: name, fitnessName: fitnessName, fitness: Double(fitnessValue), splits: splits)
    }

    private func splitMetrics(_ splitName: String, _ dataset: Dataset, genome: [Float], network: Network)
        -> TaskReport.SplitMetrics
    {
        let loss = SupervisedLoss(dataset: dataset, output: ClassifierOutput(spec: network.spec))
        let N = dataset.sampleCount
        let outputs = network.forward(
            genomes: genome, populationSize: 1, inputs: dataset.features, batchSize: N, sharedInputs: true)
        var mean: Float = 0
        var correct = [0]
        outputs.withUnsafeBufferPointer { out in
            withUnsafeMutablePointer(to: &mean) {
                loss.forward(
                    losses: UnsafeMutableBufferPointer(start: $0, count: 1), outputs: out, populationSize: 1,
                    samples: 0..<N)
            }
            loss.correctCounts(&correct, outputs: out, populationSize: 1, samples: 0..<N)
        }
        var metrics = TaskReport.SplitMetrics(name: splitName, samples: N, loss: Double(mean), lossName: loss.name)
        if dataset.classCount != nil {
            metrics.accuracy = Double(correct[0]) / Double(max(N, 1))
        } else {
            metrics.rmse = Double(mean).squareRoot() * Double(standardization?.target?.scale ?? 1)
        }
        return metrics
    }

    static func finiteOrWorst(_ value: Float) -> Float { value.isFinite ? value : -.infinity }
}
