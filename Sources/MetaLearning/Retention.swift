import Networks
import Tasks

/// How much of a genome's fitness survives `decode(encode(g))`, measured on the task itself.
///
/// - `fitnessRetention`: the mean over genomes of a ratio that is 1 for a perfect reconstruction
///   and below 1 when the decoded genome is worse. When every original fitness is positive
///   (accuracy, returns): `f(ĝ)/f(g)`. When every original fitness is at most 0 (a negated loss
///   such as `neg_cross_entropy`): `f(g)/f(ĝ) = loss(g)/loss(ĝ)`. A decoded fitness of −∞, or one of
///   the wrong sign, counts as 0. With originals of both signs the ratio means nothing and is
///   `nil`; compare `meanFitness` instead.
/// - For classifiers (dataset tasks with classes), on the test split: mean accuracy of originals
///   and decoded genomes, `accuracyRetention` = mean of `acc(ĝ)/acc(g)` (the figure the issue's
///   95 % target refers to), `accuracyDrop` = mean of `acc(g) − acc(ĝ)`, and
///   `predictionAgreement` = share of (genome, test sample) pairs where both networks pick the same
///   class.
/// - `predictionDiversity` and `decodedPredictionDiversity` (classifiers): the share of test samples
///   on which genome `b` and genome `b+1` of the set pick different classes, averaged over
///   consecutive pairs, among the originals and among the decoded genomes. A decoder that ignored
///   its latent and always produced the same good network would keep the accuracy but have a
///   diversity of 0: the GA needs latents that still tell networks apart.
/// - `reconstructionError`: `L_rec` of `MetaLoss` over the whole set: the mean over layers of the
///   layer's mean squared error divided by its weights' variance over the set.
public struct RetentionReport: Codable, Equatable, Sendable {
    public var genomes: Int
    public var fitnessName: String
    public var meanFitness: Double
    public var meanDecodedFitness: Double
    public var fitnessRetention: Double?
    public var reconstructionError: Double
    public var testAccuracy: Double?
    public var decodedTestAccuracy: Double?
    public var accuracyRetention: Double?
    public var accuracyDrop: Double?
    public var predictionAgreement: Double?
    public var predictionDiversity: Double?
    public var decodedPredictionDiversity: Double?

    enum CodingKeys: String, CodingKey {
        case genomes
        case fitnessName = "fitness_name"
        case meanFitness = "mean_fitness"
        case meanDecodedFitness = "mean_decoded_fitness"
        case fitnessRetention = "fitness_retention"
        case reconstructionError = "reconstruction_error"
        case testAccuracy = "test_accuracy"
        case decodedTestAccuracy = "decoded_test_accuracy"
        case accuracyRetention = "accuracy_retention"
        case accuracyDrop = "accuracy_drop"
        case predictionAgreement = "prediction_agreement"
        case predictionDiversity = "prediction_diversity"
        case decodedPredictionDiversity = "decoded_prediction_diversity"
    }
}

/// Measures `RetentionReport`s.
public enum Retention {
    /// Encodes and decodes `genomes` with `model` and scores both on `task`.
    ///
    /// - Parameters:
    ///   - genomes: `[B·n]` genomes of `network`.
    ///   - batch: `B`.
    ///   - generation, seed: passed to `task.evaluate` (control tasks draw start states from them).
    /// - Throws: the task's errors.
    public static func measure(
        model: AttentionAutoencoder, genomes: [Float], batch B: Int, network: Network, task: any FitnessTask,
        generation: Int = 0, seed: UInt64 = 0
    ) throws -> RetentionReport {
        let tokenizer = Tokenizer(layout: network.layout, tokenValues: model.config.tokenValues)
        let decoded = model.reconstruct(genomes: genomes, batch: B, tokenizer: tokenizer)
        return try compare(
            original: genomes, decoded: decoded, batch: B, network: network, task: task, generation: generation,
            seed: seed)
    }

    /// The report for given originals and their reconstructions.
    public static func compare(
        original: [Float], decoded: [Float], batch B: Int, network: Network, task: any FitnessTask,
        generation: Int = 0, seed: UInt64 = 0
    ) throws -> RetentionReport {
        let fitness = try task.evaluate(
            genomes: original, populationSize: B, network: network, generation: generation, seed: seed)
        let decodedFitness = try task.evaluate(
            genomes: decoded, populationSize: B, network: network, generation: generation, seed: seed)
        var report = RetentionReport(
            genomes: B, fitnessName: task.fitnessName,
            meanFitness: fitness.reduce(0) { $0 + Double($1) } / Double(B),
            meanDecodedFitness: decodedFitness.reduce(0) { $0 + Double($1) } / Double(B),
            fitnessRetention: fitnessRetention(fitness, decodedFitness),
            reconstructionError: reconstructionError(original, decoded, batch: B, layout: network.layout))
        if let dataset = task as? DatasetTask, let classes = dataset.test.classCount, dataset.test.sampleCount > 0,
            case .classes(let labels, _) = dataset.test.targets
        {
            let N = dataset.test.sampleCount
            let x = dataset.test.features
            let y = network.forward(genomes: original, populationSize: B, inputs: x, batchSize: N, sharedInputs: true)
            let yHat = network.forward(genomes: decoded, populationSize: B, inputs: x, batchSize: N, sharedInputs: true)
            func argmax(_ values: [Float], _ row: Int) -> Int {
                var best = 0
                for k in 1..<classes where values[row * classes + k] > values[row * classes + best] { best = k }
                return best
            }
            var accuracy = 0.0
            var decodedAccuracy = 0.0
            var ratio = 0.0
            var drop = 0.0
            var agree = 0
            for b in 0..<B {
                var correct = 0
                var decodedCorrect = 0
                for s in 0..<N {
                    let p = argmax(y, b * N + s)
                    let q = argmax(yHat, b * N + s)
                    if p == labels[s] { correct += 1 }
                    if q == labels[s] { decodedCorrect += 1 }
                    if p == q { agree += 1 }
                }
                let a = Double(correct) / Double(N)
                let d = Double(decodedCorrect) / Double(N)
                accuracy += a / Double(B)
                decodedAccuracy += d / Double(B)
                // an original with accuracy 0 cannot get worse: it retains everything
                ratio += (a > 0 ? d / a : 1) / Double(B)
                drop += (a - d) / Double(B)
            }
            report.testAccuracy = accuracy
            report.decodedTestAccuracy = decodedAccuracy
            report.accuracyRetention = ratio
            report.accuracyDrop = drop
            report.predictionAgreement = Double(agree) / Double(B * N)
            if B > 1 {
                var differ = 0
                var decodedDiffer = 0
                for b in 0..<B - 1 {
                    for s in 0..<N {
                        if argmax(y, b * N + s) != argmax(y, (b + 1) * N + s) { differ += 1 }
                        if argmax(yHat, b * N + s) != argmax(yHat, (b + 1) * N + s) { decodedDiffer += 1 }
                    }
                }
                report.predictionDiversity = Double(differ) / Double((B - 1) * N)
                report.decodedPredictionDiversity = Double(decodedDiffer) / Double((B - 1) * N)
            }
        }
        return report
    }

    /// Mean per-genome ratio as `RetentionReport.fitnessRetention` defines it.
    static func fitnessRetention(_ original: [Float], _ decoded: [Float]) -> Double? {
        if original.allSatisfy({ $0 > 0 }) {
            return zip(original, decoded).reduce(0.0) {
                $0 + ($1.1.isFinite && $1.1 > 0 ? Double($1.1) / Double($1.0) : 0)
            } / Double(original.count)
        }
        if original.allSatisfy({ $0 <= 0 }) {
            return zip(original, decoded).reduce(0.0) { total, pair in
                let (f, d) = pair
                guard d.isFinite, d < 0 else { return total + (d == 0 && f == 0 ? 1 : 0) }
                return total + Double(f) / Double(d)
            } / Double(original.count)
        }
        return nil
    }

    /// `L_rec` over a whole set of genomes (see `MetaLoss`).
    static func reconstructionError(_ original: [Float], _ decoded: [Float], batch B: Int, layout: ParameterLayout)
        -> Double
    {
        let n = layout.parameterCount
        var total = 0.0
        var layers = 0
        for weight in layout.tensors where !weight.isBias {
            let tensors = layout.tensors.filter { $0.layerIndex == weight.layerIndex }
            var sum = 0.0
            var squares = 0.0
            for b in 0..<B {
                for i in 0..<weight.count {
                    let w = Double(original[b * n + weight.offset + i])
                    sum += w
                    squares += w * w
                }
            }
            let count = Double(B * weight.count)
            let variance = max(squares / count - (sum / count) * (sum / count), 1e-12)
            var error = 0.0
            var values = 0
            for tensor in tensors {
                for b in 0..<B {
                    for i in 0..<tensor.count {
                        let e = Double(decoded[b * n + tensor.offset + i]) - Double(original[b * n + tensor.offset + i])
                        error += e * e
                    }
                }
                values += B * tensor.count
            }
            total += error / Double(values) / variance
            layers += 1
        }
        return total / Double(max(layers, 1))
    }
}
