import ArgumentParser
import Foundation
import IslandModel

/// `atoll bench latent`: named arms (weight-space and latent designs) on one task at one
/// evaluation budget over several seeds, each run in its own `atoll run` process so that its peak
/// memory is its own, summarised in one table.
struct BenchLatent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latent",
        abstract: "Compare weight-space and latent-space search: arms × seeds at one evaluation budget, one table.",
        discussion: """
            Tasks: digits-mlp (MLP 64-32-10 on the UCI digits, 12,800 evaluations by default), digits-wide
            (64-512-512-10, 301,066 weights, 12,800), pendulum (Pendulum-v1, 3-32-1 tanh, 3 episodes per
            evaluation, 51,200; the return is measured on 10 held-out start states), fashion-mlp
            (Fashion-MNIST, 784-32-10, minibatch 256, 128,000), fashion-cnn (EvoJAX's MNIST ConvNet, 11,274
            weights, minibatch 256, 128,000). One island of P = 64, generations =
            budget / P (budget / (P + 1) for the arms that evaluate their mean as an extra row).
            Arms: \(Arm.all.map(\.name).joined(separator: ", ")).
            Every run is a child process (`atoll run`, one rank, OPENBLAS_NUM_THREADS=1).
            """
    )

    @Option(help: "digits-mlp, digits-wide, pendulum, fashion-mlp, fashion-cnn or fashion-large.")
    var task = "digits-mlp"

    @Option(help: "Network evaluations per run (default: the task's).")
    var budget: Int?

    @Option(help: "Seeds, comma-separated.")
    var seeds = "1,2,3,4,5"

    @Option(help: "Arms, comma-separated (default: every arm).")
    var arms: String?

    @Option(help: "Individuals per generation, P (λ of the strategies).")
    var population = 64

    @Option(help: "Write every run's figures and the table as JSON to this file.")
    var json: String?

    @Option(help: "Folder for the runs (default: a new temporary folder, removed afterwards).")
    var work: String?

    @Option(
        help:
            "The pre-trained meta-learner of the *-pretrained arms (FILE.safetensors with FILE.json; default: made first, from a zoo of 24 digits MLPs 64-32-10 and 400 steps of `atoll pretrain`)."
    )
    var pretrained: String?

    func validate() throws {
        guard BenchTask(rawValue: task) != nil else {
            throw ValidationError(
                "--task: expected \(BenchTask.allCases.map(\.rawValue).joined(separator: ", ")), got '\(task)'")
        }
        guard parsedSeeds != nil, !(parsedSeeds ?? []).isEmpty else {
            throw ValidationError("--seeds: expected comma-separated whole numbers, got '\(seeds)'")
        }
        if let budget, budget < 2 * population {
            throw ValidationError("--budget must be at least 2 × --population (\(2 * population))")
        }
        guard population >= 4 else { throw ValidationError("--population must be at least 4") }
        if let arms {
            let unknown = arms.split(separator: ",").map(String.init).filter { name in
                !Arm.all.contains { $0.name == name }
            }
            guard unknown.isEmpty else {
                throw ValidationError(
                    "--arms: unknown \(unknown.joined(separator: ", ")) (known: \(Arm.all.map(\.name).joined(separator: ", ")))"
                )
            }
        }
    }

    var parsedSeeds: [UInt64]? {
        let parts = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(nil) ? nil : parts.map { $0! }
    }

    func run() throws {
        let benchTask = BenchTask(rawValue: task)!
        let evaluations = budget ?? benchTask.defaultBudget
        let generations = evaluations / population
        let chosen =
            arms.map { names in names.split(separator: ",").map { name in Arm.all.first { $0.name == name }! } }
            ?? Arm.all
        let fm = FileManager.default
        let root = URL(
            fileURLWithPath: work
                ?? fm.temporaryDirectory.appendingPathComponent("atoll-bench-latent-\(UUID().uuidString)").path)
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        defer { if work == nil { try? fm.removeItem(at: root) } }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()

        print(
            "atoll bench latent: task \(task), \(evaluations) evaluations (\(generations) generations × P = \(population)), seeds \(seeds)"
        )
        var pretrainedPath = pretrained
        if pretrainedPath == nil, chosen.contains(where: \.needsPretrained) {
            pretrainedPath = try Self.pretrain(executable, folder: root.appendingPathComponent("pretrained"))
        }
        var results: [ArmResult] = []
        for arm in chosen {
            var runs: [RunFigures] = []
            for seed in parsedSeeds! {
                let folder = root.appendingPathComponent("\(arm.name)/seed\(seed)")
                try fm.createDirectory(at: folder, withIntermediateDirectories: true)
                let configURL = folder.appendingPathComponent("bench.yaml")
                let armGenerations = evaluations / (population + arm.extraRows)
                try Data(
                    benchTask.config(
                        arm: arm, seed: seed, population: population, generations: armGenerations,
                        pretrained: pretrainedPath
                    ).utf8
                )
                .write(to: configURL)
                let out = folder.appendingPathComponent("run")
                let cpuBefore = Self.childrenCPUSeconds()
                try Self.child(
                    executable, ["run", configURL.path, "--out", out.path, "--force"],
                    log: folder.appendingPathComponent("run.log"))
                var figures = try RunFigures(directory: out, seed: seed)
                figures.cpuSeconds = Self.childrenCPUSeconds() - cpuBefore
                if benchTask == .pendulum {
                    figures.heldOut = try Self.heldOutReturn(
                        executable, network: benchTask.network, weights: out.appendingPathComponent("best.safetensors"),
                        log: folder.appendingPathComponent("evaluate.json"))
                }
                print(
                    String(
                        format: "  %@ seed %llu: score %.4f, best fitness %.5g, %.1f s wall, %.1f s CPU, %.0f MiB",
                        arm.name, seed, figures.score,
                        figures.bestFitness, figures.wallSeconds, figures.cpuSeconds, figures.peakMiB))
                fflush(stdout)
                runs.append(figures)
            }
            results.append(ArmResult(arm: arm.name, description: arm.description, runs: runs))
        }
        let scoreName = benchTask == .pendulum ? "held-out return" : "test accuracy"
        print("\n" + Self.table(results, scoreName: scoreName))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let report = BenchReport(
                task: task, evaluations: evaluations, population: population, generations: generations,
                score: scoreName, arms: results)
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }

    /// A meta-learner for the *-pretrained arms: `atoll zoo` (24 digits MLPs 64-32-10, 300 Adam
    /// steps each, saved at steps 0, 100 and 300) then `atoll pretrain` with `Arm.pretrainingYAML`.
    ///
    /// - Returns: the meta-learner's path (without extension).
    static func pretrain(_ executable: URL, folder: URL) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let zoo = folder.appendingPathComponent("zoo")
        let config = folder.appendingPathComponent("meta.yaml")
        let out = folder.appendingPathComponent("meta-learner")
        print("  pre-training a meta-learner in \(folder.path) (zoo, then atoll pretrain)")
        fflush(stdout)
        try child(
            executable,
            [
                "zoo", "--task", "digits", "--network", "mlp:64-32-10", "--count", "24", "--steps", "300", "--save-at",
                "0,100,300",
                "--out", zoo.path, "--force",
            ], log: folder.appendingPathComponent("zoo.log"))
        try Data(Arm.pretrainingYAML.utf8).write(to: config)
        try child(
            executable, ["pretrain", "--zoo", zoo.path, "--out", out.path, "--config", config.path],
            log: folder.appendingPathComponent("pretrain.log"))
        return out.path
    }

    /// User + system CPU seconds of the children waited for so far (`getrusage(RUSAGE_CHILDREN)`):
    /// on a loaded machine a steadier figure than wall time.
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Runs `executable arguments` to its end, its output in `log`; a failure names the log.
    static func child(_ executable: URL, _ arguments: [String], log: URL) throws {
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError(
                "`atoll \(arguments.joined(separator: " "))` exited with \(process.terminationStatus): see \(log.path)")
        }
    }

    /// Mean return of `weights` over 10 Pendulum-v1 episodes from start states no training run
    /// saw (seed 4,242,424,242, generation 0).
    static func heldOutReturn(_ executable: URL, network: String, weights: URL, log: URL) throws -> Double {
        try child(
            executable,
            [
                "evaluate", "--task", "Pendulum-v1", "--episodes", "10", "--network", network, "--weights",
                weights.path,
                "--seed", "4242424242", "--generation", "0",
            ], log: log)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: log)) as? [String: Any]
        guard let episodes = object?["episodes"] as? [String: Any], let mean = episodes["mean_return"] as? Double else {
            throw ValidationError("\(log.path): no episodes.mean_return")
        }
        return mean
    }

    static func table(_ results: [ArmResult], scoreName: String) -> String {
        let header = [
            "arm", "seeds", "\(scoreName) mean ± sd", "best fitness mean", "evaluations", "wall s mean", "CPU s mean",
            "peak RSS MiB", "decode share",
            "meta-training share",
        ]
        var rows = [header]
        for r in results {
            let (score, spread) = meanAndSD(r.runs.map(\.score))
            let fitness = meanAndSD(r.runs.map { Double($0.bestFitness) }).mean
            let wall = meanAndSD(r.runs.map(\.wallSeconds)).mean
            rows.append([
                r.arm, "\(r.runs.count)", String(format: "%.4f ± %.4f", score, spread), String(format: "%.4f", fitness),
                "\(r.runs.map(\.evaluations).max() ?? 0)", String(format: "%.1f", wall),
                String(format: "%.1f", meanAndSD(r.runs.map(\.cpuSeconds)).mean),
                String(format: "%.0f", r.runs.map(\.peakMiB).max() ?? 0),
                String(format: "%.1f %%", 100 * meanAndSD(r.runs.map(\.decodeShare)).mean),
                String(format: "%.1f %%", 100 * meanAndSD(r.runs.map(\.metaShare)).mean),
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        func line(_ cells: [String]) -> String {
            "| "
                + cells.enumerated().map {
                    $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
                }.joined(separator: " | ") + " |"
        }
        return
            ([line(rows[0]), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
            + rows.dropFirst().map(line)).joined(separator: "\n")
    }

    static func meanAndSD(_ values: [Double]) -> (mean: Double, sd: Double) {
        guard !values.isEmpty else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }
}
