import ArgumentParser
import Foundation
import Networks
import Tasks

/// Options that pick and configure a task, shared by `atoll evaluate` and the benchmarks.
struct TaskSelection: ParsableArguments {
    @Option(
        help:
            "The task: digits, csv:PATH, CartPole-v1, Acrobot-v1, MountainCarContinuous-v0, Pendulum-v1, or \"external:PROGRAM ARGS\" (see atoll tasks)."
    )
    var task: String

    @Option(
        help: "Dataset fitness: neg_cross_entropy (classification default), accuracy, or neg_mse (regression default).")
    var fitness: String?

    @Option(help: "Episodes per genome for control tasks.")
    var episodes: Int = 1

    @Option(
        help:
            "Digits data: the digits.csv.gz file or its folder (default: $ATOLL_DATA, data/ near the executable, ./data)."
    )
    var data: String?

    @Option(help: "CSV target column, by header name or 1-based number (default: the last column).")
    var target: String?

    @Option(help: "CSV target kind: classification or regression.")
    var kind: String = "classification"

    @Option(help: "Share of each class held out as the test split.")
    var testFraction: Double = 0.2

    @Option(help: "Seed of the train/test split.")
    var splitSeed: UInt64 = 0

    @Option(help: "Seconds an external evaluator may take per batch.")
    var timeout: Double = 60

    func validate() throws {
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
        guard testFraction >= 0 && testFraction < 1 else {
            throw ValidationError("--test-fraction must be in [0, 1), got \(testFraction)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
        if let fitness, DatasetTask.Fitness(rawValue: fitness) == nil {
            throw ValidationError(
                "--fitness '\(fitness)' is not one of \(DatasetTask.Fitness.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard CSVDataset.Kind(rawValue: kind) != nil else {
            throw ValidationError("--kind '\(kind)' must be classification or regression")
        }
        if task.hasPrefix("csv:") && !FileManager.default.fileExists(atPath: String(task.dropFirst(4))) {
            throw ValidationError("--task \(task): no such file '\(task.dropFirst(4))'")
        }
    }

    var options: TaskOptions {
        var options = TaskOptions()
        options.fitness = fitness.flatMap(DatasetTask.Fitness.init(rawValue:))
        options.episodes = episodes
        options.data = data
        options.target = target
        options.kind = CSVDataset.Kind(rawValue: kind) ?? .classification
        options.testFraction = testFraction
        options.splitSeed = splitSeed
        options.timeout = timeout
        return options
    }

    func makeTask() throws -> any FitnessTask { try TaskCatalog.make(task, options: options) }
}

/// `atoll evaluate`: score one network's weights on a task and print the result as JSON.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score one network's weights on a task; print one JSON object.",
        discussion: """
            Prints the fitness and its name; for datasets also samples, loss and accuracy (or rmse) \
            of the train and test splits; for control tasks each episode's return and length. \
            The weights are a safetensors file with the network's PyTorch names (as atoll export \
            and PyTorch's safetensors.torch.save_file write) or one flat tensor.

            Example: atoll evaluate --task digits --network mlp:64-32-10 --weights best.safetensors
            """
    )

    @OptionGroup var selection: TaskSelection

    @Option(help: "The network: a YAML or JSON spec file, or the shorthand mlp:64-32-10[:activation].")
    var network: String

    @Option(help: "The weights: FILE.safetensors.")
    var weights: String

    @Option(help: "Run seed (control tasks draw start states from it).")
    var seed: UInt64 = 0

    @Option(help: "Generation whose start states to use (control tasks).")
    var generation: Int = 0

    func validate() throws {
        try CLIFiles.validateNetworkOption(network)
        guard weights.hasSuffix(".safetensors") else {
            throw ValidationError("--weights '\(weights)' must end in .safetensors")
        }
        guard FileManager.default.fileExists(atPath: weights) else {
            throw ValidationError("--weights '\(weights)' does not exist")
        }
        guard generation >= 0 else { throw ValidationError("--generation must not be negative") }
    }

    func run() throws {
        let task = try selection.makeTask()
        let net = try Network(spec: try NetworkSpec.load(path: network))
        try task.checkCompatible(net)
        let genome = try CLIFiles.genome(safetensors: weights, layout: net.layout)
        try Self.checkFinite(genome, layout: net.layout, file: weights)
        let report = try task.report(genome: genome, network: net, generation: generation, seed: seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    /// A network with a NaN or ±inf weight has no meaningful fitness (a task may clamp it to a
    /// finite worst value), so such weights are an error naming the file, the count and the first.
    static func checkFinite(_ genome: [Float], layout: ParameterLayout, file: String) throws {
        let bad = genome.indices.filter { !genome[$0].isFinite }
        guard let first = bad.first else { return }
        let location =
            layout.tensors.first { ($0.offset..<$0.offset + $0.count).contains(first) }
            .map { "\($0.name) element \(first - $0.offset)" } ?? "element \(first)"
        throw NonFiniteWeights(
            description: "--weights '\(file)': \(bad.count) of \(genome.count) weights are NaN or ±inf "
                + "(the first: \(location) = \(genome[first])); a network with them has no meaningful fitness")
    }
}

/// Weights that are not all finite numbers.
struct NonFiniteWeights: Error, CustomStringConvertible {
    let description: String
}
