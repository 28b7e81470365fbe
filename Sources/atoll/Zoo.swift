import ArgumentParser
import Foundation
import Kernels
import MetaLearning
import Networks
import Tasks

/// `atoll zoo`: train many networks by gradient descent and save them, at several points of
/// training, as a zoo for pre-training the meta-learner.
struct Zoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train networks by gradient descent (Adam) and save them as a zoo for atoll pretrain.",
        discussion: """
            For each --network spec (the option may be repeated to mix sizes in one zoo), trains \
            --count networks with seeds seed, seed+1, …: PyTorch's default initialisation drawn from \
            the seed, then --steps Adam steps on minibatches of the task's training split (mean \
            cross-entropy for classification). At each step of --save-at the network is scored \
            (the task's default fitness, train and test accuracy) and saved as \
            sS-net-III-step-TTTTT.safetensors (S: the spec's position among the --network options, \
            I: the network, T: the step) with PyTorch's tensor names and the metadata task, \
            network, fitness, train_accuracy, test_accuracy, step and seed. index.json, listing \
            every file, is written last: a folder without it is an unfinished zoo.

            Example: atoll zoo --task digits --network mlp:64-32-10 --count 40 --save-at 250,500,1000,2000 --out zoo
            """
    )

    @Option(
        help:
            "The task: digits or csv:PATH (a CSV with a header whose last column is the class). The networks are trained on its loss."
    )
    var task: String

    @Option(
        name: .customLong("network"),
        help:
            "A network: a YAML or JSON spec file, or the shorthand mlp:64-32-10[:activation]. Repeat to mix several specs."
    )
    var networks: [String] = []

    @Option(help: "Networks to train per spec.")
    var count: Int

    @Option(help: "The zoo folder; it must be empty or absent unless --force.")
    var out: String

    @Option(help: "Adam steps per network.")
    var steps: Int = 2000

    @Option(
        help:
            "Comma-separated steps at which to save each network, 0 for the initialisation (default: 100, 500 and the last step, those within --steps)."
    )
    var saveAt: String?

    @Option(help: "Seed of the first network; network i uses seed + i.")
    var seed: UInt64 = 0

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-2

    @Option(help: "Minibatch size (samples per step).")
    var batch: Int = 64

    @Option(
        help:
            "Digits data: the digits.csv.gz file or its folder (default: $ATOLL_DATA, data/ near the executable, ./data)."
    )
    var data: String?

    @Flag(help: "Replace an existing zoo in --out (its index and zoo files are deleted first; other files are kept).")
    var force = false

    /// Names of the files `atoll zoo` writes, which `--force` deletes.
    static let zooFilePattern = #"^s\d+-net-\d+-step-\d+\.safetensors$"#

    func validate() throws {
        guard task == "digits" || task.hasPrefix("csv:") else {
            throw ValidationError(
                "--task '\(task)': atoll zoo trains by gradient descent on a dataset's loss and needs digits or csv:PATH"
            )
        }
        if task.hasPrefix("csv:") && !FileManager.default.fileExists(atPath: String(task.dropFirst(4))) {
            throw ValidationError("--task \(task): no such file '\(task.dropFirst(4))'")
        }
        guard !networks.isEmpty else { throw ValidationError("--network is required (give it once per spec)") }
        for network in networks {
            try CLIFiles.validateNetworkOption(network)
            do {
                _ = try NetworkSpec.load(path: network)
            } catch let error as NetworkSpecError {
                throw ValidationError("--network '\(network)': \(error.message)")
            }
        }
        if let repeated = Dictionary(grouping: networks, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw ValidationError("--network '\(repeated)' is given twice; use --count for more networks of one spec")
        }
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        _ = try saveSteps()
        try checkOutputFolder()
    }

    /// The steps to save at, sorted, from `--save-at` or the default.
    func saveSteps() throws -> [Int] {
        guard let saveAt else { return Array(Set([100, 500, steps].filter { $0 <= steps })).sorted() }
        var result: [Int] = []
        for item in saveAt.split(separator: ",", omittingEmptySubsequences: false) {
            let text = item.trimmingCharacters(in: .whitespaces)
            guard let value = Int(text), value >= 0 else {
                throw ValidationError(
                    "--save-at: '\(text)' is not a step number (expected comma-separated integers ≥ 0, e.g. 100,500,2000)"
                )
            }
            guard value <= steps else {
                throw ValidationError("--save-at: step \(value) is after the last step (--steps \(steps))")
            }
            guard !result.contains(value) else { throw ValidationError("--save-at: step \(value) is listed twice") }
            result.append(value)
        }
        return result.sorted()
    }

    /// `--out` must be absent, an empty folder, or (with `--force`) a folder.
    func checkOutputFolder() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw ValidationError("--out '\(out)' is a file, not a folder") }
        let contents = try FileManager.default.contentsOfDirectory(atPath: out)
        guard contents.isEmpty || force else {
            let state =
                contents.contains(ZooIndex.fileName)
                ? "it holds a zoo"
                : "it holds \(contents.count) file(s) and no \(ZooIndex.fileName), perhaps an unfinished zoo"
            throw ValidationError(
                "--out '\(out)' is not empty (\(state)); choose another folder or pass --force to replace it")
        }
    }

    func run() throws {
        var options = TaskOptions()
        options.data = data
        guard let dataset = try TaskCatalog.make(task, options: options) as? DatasetTask else {
            throw TaskError.invalidOption("--task '\(task)' is not a dataset task")
        }
        let specs = try networks.map { try NetworkSpec.load(path: $0) }
        let nets = try specs.map { try Network(spec: $0) }
        for (network, net) in zip(networks, nets) {
            do {
                try dataset.checkCompatible(net)
            } catch let error as TaskError {
                throw TaskError.invalidOption("--network '\(network)': \(error)")
            }
        }
        let saveAt = try saveSteps()
        try prepareOutputFolder()
        let settings = GradientTrainer.Settings(learningRate: lr, batchSize: batch)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let specJSON = try specs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }

        let total = networks.count * count
        print(
            """
            zoo: \(count) network(s) × \(networks.count) spec(s) on \(task) (\(dataset.train.sampleCount) training samples), \
            \(steps) Adam steps (lr \(lr), batch \(batch)), saved at steps \(saveAt.map(String.init).joined(separator: ",")) → \(out)
            """)
        // Work is proportional to parameters × steps; the time left is estimated from it.
        let totalWork = Double(nets.reduce(0) { $0 + $1.parameterCount } * count)
        var doneWork = 0.0
        var finished = 0
        let start = Date()
        var entries: [ZooIndex.Entry] = []
        var finalAccuracies: [[Double]] = Array(repeating: [], count: networks.count)
        for (s, (network, net)) in zip(networks, nets).enumerated() {
            for i in 0..<count {
                let networkStart = Date()
                let networkSeed = seed &+ UInt64(i)
                var initStream = RandomStream(seed: networkSeed, purpose: "zoo-init")
                let trainer = try GradientTrainer(
                    network: net, task: dataset, genome: net.initializedGenome(stream: &initStream), settings: settings,
                    batches: RandomStream(seed: networkSeed, purpose: "zoo-batches"))
                var last: ZooIndex.Entry?
                try trainer.train(steps: steps, checkpoints: Set(saveAt)) { step in
                    let report = try dataset.report(
                        genome: trainer.genome, network: net, generation: 0, seed: networkSeed)
                    let entry = ZooIndex.Entry(
                        file: String(format: "s%d-net-%03d-step-%05d.safetensors", s, i, step), network: network,
                        seed: networkSeed, step: step, fitness: Double(String(Float(report.fitness)))!,
                        trainAccuracy: report.split("train")?.accuracy, testAccuracy: report.split("test")?.accuracy)
                    var metadata = [
                        "format": "pt", "atoll.network": specJSON[s], "task": task, "network": network,
                        "fitness_name": report.fitnessName, "fitness": "\(entry.fitness)", "step": "\(step)",
                        "seed": "\(networkSeed)",
                    ]
                    metadata["train_accuracy"] = entry.trainAccuracy.map { "\($0)" }
                    metadata["test_accuracy"] = entry.testAccuracy.map { "\($0)" }
                    try SafeTensors(genome: trainer.genome, layout: net.layout, metadata: metadata).write(
                        path: entry.path(in: out))
                    entries.append(entry)
                    last = entry
                }
                doneWork += Double(net.parameterCount)
                let elapsed = Date().timeIntervalSince(start)
                let left = elapsed * (totalWork - doneWork) / doneWork
                if let accuracy = last?.testAccuracy { finalAccuracies[s].append(accuracy) }
                finished += 1
                let fitness = last.map { String(format: "%.4f", $0.fitness) } ?? "n/a"
                print(
                    "[\(finished)/\(total)] \(network) seed \(networkSeed): step \(last?.step ?? 0) fitness \(fitness) "
                        + "train \(Self.percent(last?.trainAccuracy)) test \(Self.percent(last?.testAccuracy)), "
                        + String(format: "%.2f s; about %.0f s left", Date().timeIntervalSince(networkStart), left))
                fflush(stdout)
            }
        }
        try ZooIndex(task: task, entries: entries).write(directory: out)
        let elapsed = Date().timeIntervalSince(start)
        for (s, network) in networks.enumerated() where !finalAccuracies[s].isEmpty {
            let accuracies = finalAccuracies[s]
            let mean = accuracies.reduce(0, +) / Double(accuracies.count)
            print(
                "\(network): test accuracy at step \(saveAt.last!) min \(Self.percent(accuracies.min())) mean \(Self.percent(mean)) "
                    + "max \(Self.percent(accuracies.max())) over \(accuracies.count) network(s)")
        }
        print(
            "wrote \(ZooIndex.path(in: out)): \(entries.count) files of \(total) networks in "
                + String(format: "%.1f s", elapsed))
    }

    /// Creates `--out`, or with `--force` deletes the index first (so an interrupted rerun leaves
    /// no stale index) and then the old zoo files.
    func prepareOutputFolder() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        guard force else { return }
        let index = ZooIndex.path(in: out)
        if fm.fileExists(atPath: index) { try fm.removeItem(atPath: index) }
        for name in try fm.contentsOfDirectory(atPath: out)
        where name.range(of: Self.zooFilePattern, options: .regularExpression) != nil {
            try fm.removeItem(atPath: (out as NSString).appendingPathComponent(name))
        }
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f%%", 100 * $0) } ?? "n/a"
    }
}
