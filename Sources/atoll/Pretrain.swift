import ArgumentParser
import Foundation
import MetaLearning
import Networks
import Tasks

/// `atoll pretrain`: train the meta-learner on a zoo of networks and report what it retains.
struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Pre-train the meta-learner on a zoo (atoll zoo) and report reconstruction and fitness retention on held-out networks.",
        discussion: """
            Reads DIR/index.json and every checkpoint it lists, holds out --held-out of the networks \
            of each size (all checkpoints of a held-out network; the split is by network, never by \
            checkpoint), and trains the meta-learner for --steps minibatch steps on the rest, printing \
            one progress line every --log-every steps: the raw loss terms (L_rec, L_beh, L_gap, \
            L_head), the weighted total of the terms over their first values, the learning rate and \
            the time left. It writes FILE.safetensors and FILE.json (the model with its AdamW state: \
            training can continue from them) and FILE.report.json: for each network size, the \
            reconstruction error and the fitness and test-accuracy retention of decode(encode(g)) on \
            all held-out checkpoints, on the held-out networks' last checkpoints, and on as many \
            training checkpoints for comparison. Nothing is overwritten unless training succeeds.

            Example: atoll pretrain --zoo zoo --out runs/meta/meta-learner --config configs/meta.yaml
            """
    )

    @Option(help: "The zoo folder written by atoll zoo.")
    var zoo: String

    @Option(
        help:
            "Output path; FILE.safetensors, FILE.json and FILE.report.json are written (a .safetensors extension is dropped)."
    )
    var out: String

    @Option(
        help: "Meta-learner YAML: model sizes and training settings (default: built-in defaults, as configs/meta.yaml)."
    )
    var config: String?

    @Option(
        help: "Training steps (default: training.total_steps of the config); with --resume, 0 only writes the report.")
    var steps: Int?

    @Option(
        help:
            "Continue from a saved meta-learner (FILE.safetensors + FILE.json, with its AdamW state and step); its configuration must match --config's model, and --config's training settings (or, without --config, the file's) apply."
    )
    var resume: String?

    @Option(help: "Share of each size's networks held out for the report.")
    var heldOut: Double = 0.2

    @Option(
        help:
            "Seed of the model's initialisation, the minibatches and the held-out split (default: training.seed of the config)."
    )
    var seed: UInt64?

    @Option(help: "Print a progress line every this many steps.")
    var logEvery: Int = 50

    @Option(
        help:
            "Digits data: the digits.csv.gz file or its folder (default: $ATOLL_DATA, data/ near the executable, ./data)."
    )
    var data: String?

    func validate() throws {
        guard FileManager.default.fileExists(atPath: (zoo as NSString).appendingPathComponent("index.json")) else {
            throw ValidationError("--zoo '\(zoo)': no index.json there (run atoll zoo first, and let it finish)")
        }
        if let config, !FileManager.default.fileExists(atPath: config) {
            throw ValidationError("--config '\(config)': no such file")
        }
        if let steps, steps < (resume == nil ? 1 : 0) {
            throw ValidationError("--steps must be at least \(resume == nil ? 1 : 0), got \(steps)")
        }
        if let resume, !FileManager.default.fileExists(atPath: MetaLearnerPaths(resume).state) {
            throw ValidationError("--resume '\(resume)': no \(MetaLearnerPaths(resume).state)")
        }
        guard heldOut >= 0 && heldOut < 1 else { throw ValidationError("--held-out must be in [0, 1), got \(heldOut)") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1, got \(logEvery)") }
        let folder = ((MetaLearnerPaths(out).tensors as NSString).deletingLastPathComponent as String)
        var isDirectory: ObjCBool = false
        if !folder.isEmpty,
            !(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue)
        {
            throw ValidationError("--out '\(out)': folder '\(folder)' does not exist")
        }
    }

    /// The report written to FILE.report.json.
    struct Report: Encodable {
        struct Size: Encodable {
            var network: String
            var parameters: Int
            var tokens: Int
            var trainingNetworks: Int
            var heldOutNetworks: Int
            var heldOut: RetentionReport?
            var heldOutFinal: RetentionReport?
            var training: RetentionReport?

            enum CodingKeys: String, CodingKey {
                case network, parameters, tokens
                case trainingNetworks = "training_networks"
                case heldOutNetworks = "held_out_networks"
                case heldOut = "held_out"
                case heldOutFinal = "held_out_final"
                case training
            }
        }

        var zoo: String
        var task: String
        var steps: Int
        var seconds: Double
        var latentFloats: Int
        var setup: MetaLearnerSetup
        var finalTerms: MetaLossTerms?
        var sizes: [Size]

        enum CodingKeys: String, CodingKey {
            case zoo, task, steps, seconds
            case latentFloats = "latent_floats"
            case setup
            case finalTerms = "final_terms"
            case sizes
        }
    }

    func run() throws {
        var setup = try config.map { try MetaLearnerSetup.load(path: $0) } ?? MetaLearnerSetup()
        var stepsBefore = 0
        if let resume {
            let saved = try MetaTrainer.load(from: MetaLearnerPaths(resume), config: config == nil ? nil : setup.model)
            setup = MetaLearnerSetup(
                model: saved.model.config, training: config == nil ? saved.settings : setup.training)
            stepsBefore = saved.step
        }
        if let seed { setup.training.seed = seed }
        // steps of this session; the schedule spans the steps already taken and these
        let totalSteps = steps ?? setup.training.totalSteps
        setup.training.totalSteps = max(stepsBefore + totalSteps, 1)
        setup.training.warmupSteps = min(setup.training.warmupSteps, setup.training.totalSteps)

        let zooIndex = try ZooIndex.load(directory: zoo)
        var options = TaskOptions()
        options.data = data
        let task = try TaskCatalog.make(zooIndex.task, options: options)
        let (trainEntries, heldOutEntries) = zooIndex.split(heldOut: heldOut, seed: setup.training.seed)

        // load every checkpoint, grouped by network size in zoo order
        var order: [String] = []
        var networks: [String: Network] = [:]
        var trainRecords: [String: [MetaRecord]] = [:]
        var heldOutGenomes: [String: [(entry: ZooIndex.Entry, genome: [Float])]] = [:]
        for (entries, heldOut) in [(trainEntries, false), (heldOutEntries, true)] {
            for entry in entries {
                let (spec, genome) = try entry.load(in: zoo)
                if networks[entry.network] == nil {
                    let network = try Network(spec: spec)
                    try task.checkCompatible(network)
                    networks[entry.network] = network
                    order.append(entry.network)
                }
                if heldOut {
                    heldOutGenomes[entry.network, default: []].append((entry, genome))
                } else {
                    trainRecords[entry.network, default: []].append(
                        MetaRecord(genome: genome, fitness: Float(entry.fitness)))
                }
            }
        }
        let groups = try order.compactMap { name -> MetaLayoutGroup? in
            guard let records = trainRecords[name], !records.isEmpty else { return nil }
            return try MetaLayoutGroup(
                network: networks[name]!, records: records, task: task, config: setup.model, settings: setup.training)
        }
        guard !groups.isEmpty else {
            throw ValidationError("--zoo '\(zoo)': no training networks left after holding out \(heldOut)")
        }

        let trainer =
            try resume.map {
                try MetaTrainer.load(from: MetaLearnerPaths($0), config: setup.model, settings: setup.training)
            }
            ?? MetaTrainer(
                model: try AttentionAutoencoder(config: setup.model, seed: setup.training.seed),
                settings: setup.training)
        let model = trainer.model
        print(
            "zoo \(zoo): task \(zooIndex.task), \(trainEntries.count) training and \(heldOutEntries.count) held-out checkpoints"
        )
        for name in order {
            let network = networks[name]!
            let tokens = Tokenizer(layout: network.layout, tokenValues: setup.model.tokenValues).tokenCount
            print(
                "  \(name): \(network.parameterCount) parameters, \(tokens) tokens, \(trainRecords[name]?.count ?? 0) training / \(heldOutGenomes[name]?.count ?? 0) held-out checkpoints"
            )
        }
        print(
            "meta-learner: \(model.parameters.count) parameters, latent \(setup.model.latents)×\(setup.model.latentWidth) = \(setup.model.latentSize) floats; \(totalSteps) steps of \(setup.training.batchSize) genomes"
        )

        let start = Date()
        var last: MetaStepResult?
        var window: [MetaStepResult] = []
        if let resume { print("resumed from \(resume) at step \(stepsBefore)") }
        // a resumed session draws other minibatches: its round is the step it starts from
        try trainer.train(groups: groups, steps: totalSteps, round: stepsBefore) { result in
            last = result
            window.append(result)
            if (result.step - stepsBefore) % logEvery == 0 || result.step - stepsBefore == totalSteps {
                let elapsed = Date().timeIntervalSince(start)
                let done = result.step - stepsBefore
                let left = elapsed / Double(done) * Double(totalSteps - done)
                let mean = MetaLossTerms(
                    values: (0..<4).map { k in window.reduce(0) { $0 + $1.terms.values[k] } / Double(window.count) })
                let total = window.reduce(0) { $0 + $1.total } / Double(window.count)
                print(
                    String(
                        format:
                            "step %6d/%d  rec %.4f  beh %.4g  gap %.4g  head %.4f  total %.4f  lr %.2e  |g| %.3f  %.0fs, %.0fs left",
                        result.step, stepsBefore + totalSteps, mean.reconstruction, mean.behaviour, mean.gap, mean.head,
                        total,
                        result.learningRate, result.gradientNorm, elapsed, left))
                fflush(stdout)
                window.removeAll()
            }
        }
        let seconds = Date().timeIntervalSince(start)

        var sizes: [Report.Size] = []
        for name in order {
            let network = networks[name]!
            let held = heldOutGenomes[name] ?? []
            func retention(_ genomes: [[Float]]) throws -> RetentionReport? {
                guard !genomes.isEmpty else { return nil }
                return try Retention.measure(
                    model: model, genomes: genomes.flatMap { $0 }, batch: genomes.count, network: network, task: task)
            }
            var lastCheckpoints: [String: (step: Int, genome: [Float])] = [:]
            for (entry, genome) in held where (lastCheckpoints[entry.networkKey]?.step ?? -1) < entry.step {
                lastCheckpoints[entry.networkKey] = (entry.step, genome)
            }
            let training = (trainRecords[name] ?? []).prefix(max(held.count, 1)).map(\.genome)
            sizes.append(
                Report.Size(
                    network: name, parameters: network.parameterCount,
                    tokens: Tokenizer(layout: network.layout, tokenValues: setup.model.tokenValues).tokenCount,
                    trainingNetworks: Set(trainEntries.filter { $0.network == name }.map(\.networkKey)).count,
                    heldOutNetworks: lastCheckpoints.count,
                    heldOut: try retention(held.map(\.genome)),
                    heldOutFinal: try retention(lastCheckpoints.keys.sorted().map { lastCheckpoints[$0]!.genome }),
                    training: try retention(training)))
        }
        let report = Report(
            zoo: zoo, task: zooIndex.task, steps: totalSteps, seconds: seconds, latentFloats: setup.model.latentSize,
            setup: setup, finalTerms: last?.terms, sizes: sizes)

        let paths = MetaLearnerPaths(out)
        try trainer.save(to: paths)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(report).write(to: URL(fileURLWithPath: paths.report), options: .atomic)

        print(
            String(
                format: "trained %d steps in %.1f s; wrote %@, %@, %@", totalSteps, seconds, paths.tensors, paths.state,
                paths.report))
        print(
            "network".padding(toLength: 22, withPad: " ", startingAt: 0)
                + "set            genomes  rec err   fitness ret  test acc  decoded acc  acc ret  agreement")
        for size in sizes {
            for (label, r) in [
                ("held-out", size.heldOut), ("held-out final", size.heldOutFinal), ("training", size.training),
            ] {
                guard let r else { continue }
                func f(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "-" }
                print(
                    size.network.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + label.padding(toLength: 15, withPad: " ", startingAt: 0)
                        + String(format: "%7d  ", r.genomes)
                        + f(r.reconstructionError, "%7.4f").padding(toLength: 10, withPad: " ", startingAt: 0)
                        + f(r.fitnessRetention, "%8.4f").padding(toLength: 13, withPad: " ", startingAt: 0)
                        + f(r.testAccuracy, "%8.4f").padding(toLength: 10, withPad: " ", startingAt: 0)
                        + f(r.decodedTestAccuracy, "%8.4f").padding(toLength: 13, withPad: " ", startingAt: 0)
                        + f(r.accuracyRetention, "%7.4f").padding(toLength: 9, withPad: " ", startingAt: 0)
                        + f(r.predictionAgreement, "%7.4f"))
            }
        }
    }
}
