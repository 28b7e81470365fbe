import ArgumentParser
import CBLAS
import Foundation
import Kernels
import MetaLearning
import Networks
import Tasks

#if canImport(Glibc)
    import Glibc
#endif

/// `atoll bench meta`: time the meta-learner's training step and decoding against evaluation.
struct BenchMeta: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract:
            "Time meta-learner training steps and decoding, with the share of time in BLAS, against evaluating the decoded networks on digits.",
        discussion: """
            Cases: a training step (forward, the four loss terms with the behavioural probe of \
            --probe digits samples, backward, AdamW) on 32 genomes of mlp 64-32-10 (2,410 weights) \
            and on 8 genomes of mlp 64-512-512-10 (301,066 weights); encoding 64 genomes of each size \
            into latents and decoding 64 latents back into genomes (forward only, genomes to tokens \
            and tokens back to genomes included); and evaluating 64 \
            genomes of each size on digits (neg_cross_entropy over the 1,438 training images), the \
            work decoding must stay below. Genomes are PyTorch-initialised; the meta-learner has the \
            default sizes (or --config's model: other token widths or token-MLP ratios are timed by \
            a config that sets them). Each case runs once untimed, then --repeats times; \
            medians of wall-clock and thread CPU time are printed.

            BLAS share: a sampling profiler inside this process. setitimer(ITIMER_PROF) delivers \
            SIGPROF every 1 ms of process CPU time; the handler reads the interrupted instruction \
            pointer (REG_RIP) from the signal context and counts the samples that fall inside the \
            executable mappings of libopenblas (read from /proc/self/maps). The share is \
            BLAS samples over all samples taken during the timed repeats (the kernel may deliver \
            them at its tick rate, so short cases have few samples: their count is printed). OpenBLAS runs with \
            --threads threads (default 1, so every sample is of this thread).
            """
    )

    @Option(help: "Timed repeats per case (after one untimed run).")
    var repeats: Int = 5

    @Option(help: "Probe inputs of the behavioural loss.")
    var probe: Int = 256

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1

    @Option(help: "Meta-learner YAML whose model sizes to use (default: built-in defaults).")
    var config: String?

    @Option(help: "Digits data: the digits.csv.gz file or its folder (default: searched as for atoll evaluate).")
    var data: String?

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard probe >= 1 else { throw ValidationError("--probe must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let config, !FileManager.default.fileExists(atPath: config) {
            throw ValidationError("--config '\(config)': no such file")
        }
    }

    func run() throws {
        openblas_set_num_threads(Int32(threads))
        var setup = try config.map { try MetaLearnerSetup.load(path: $0) } ?? MetaLearnerSetup()
        setup.training.probeCount = probe
        var options = TaskOptions()
        options.data = data
        let digits = try TaskCatalog.make("digits", options: options)
        let sampler = BlasSampler()
        print(
            "OpenBLAS \(String(cString: openblas_get_corename())), \(threads) thread(s); meta-learner d=\(setup.model.width), K×d_z=\(setup.model.latents)×\(setup.model.latentWidth), C=\(setup.model.tokenValues); medians of \(repeats) after one warm-up"
        )
        print(
            sampler.available
                ? "BLAS share: SIGPROF samples every 1 ms of CPU time inside libopenblas's code"
                : "BLAS share: libopenblas not found among the loaded objects")
        print(pad("case", 46) + pad("wall ms", 11) + pad("cpu ms", 11) + pad("BLAS %", 8) + pad("samples", 9) + "note")

        for (sizes, batch) in [([64, 32, 10], 32), ([64, 512, 512, 10], 8)] {
            let network = try Network(spec: .mlp(sizes))
            let name = sizes.map(String.init).joined(separator: "-")
            let tokenizer = Tokenizer(layout: network.layout, tokenValues: setup.model.tokenValues)
            let model = try AttentionAutoencoder(config: setup.model, seed: 1)
            var stream = RandomStream(seed: 1, purpose: "bench-meta")

            // training step
            var genomes: [Float] = []
            for _ in 0..<batch { genomes += network.initializedGenome(stream: &stream) }
            let fitness = try digits.evaluate(
                genomes: genomes, populationSize: batch, network: network, generation: 0, seed: 0)
            let n = network.parameterCount
            let records = (0..<batch).map {
                MetaRecord(genome: Array(genomes[$0 * n..<($0 + 1) * n]), fitness: fitness[$0])
            }
            let group = try MetaLayoutGroup(
                network: network, records: records, task: digits, config: setup.model, settings: setup.training)
            let trainer = try MetaTrainer(model: model, settings: setup.training)
            let step = try measure(sampler) { _ = try trainer.trainStep(records, group: group) }
            print(
                pad("train step, \(batch) × mlp \(name)", 46) + step.columns
                    + "\(n) weights, \(tokenizer.tokenCount) tokens per genome")

            // decode 64 latents, and evaluate 64 genomes
            var population: [Float] = []
            for _ in 0..<64 { population += network.initializedGenome(stream: &stream) }
            var latents: [Float] = []
            let encode = measure(sampler) {
                latents = model.encode(genomes: population, batch: 64, tokenizer: tokenizer)
            }
            print(
                pad("encode 64 × mlp \(name) → latents", 46) + encode.columns
                    + "\(64 * tokenizer.tokenCount) token rows")
            var decoded: [Float] = []
            let decode = measure(sampler) { decoded = model.decode(latents: latents, batch: 64, tokenizer: tokenizer) }
            print(
                pad("decode 64 latents → mlp \(name)", 46) + decode.columns + "\(64 * tokenizer.tokenCount) token rows")
            let evaluate = try measure(sampler) {
                _ = try digits.evaluate(genomes: decoded, populationSize: 64, network: network, generation: 0, seed: 0)
            }
            print(
                pad("evaluate 64 × mlp \(name) on digits", 46) + evaluate.columns
                    + String(format: "decode / evaluate = %.2f (wall)", decode.wall / evaluate.wall))
        }
    }

    /// Median timings and the BLAS share of one case.
    struct Measurement {
        var wall: Double
        var cpu: Double
        var blasShare: Double?
        var samples: Int

        var columns: String {
            pad(String(format: "%.2f", wall * 1e3), 11) + pad(String(format: "%.2f", cpu * 1e3), 11)
                + pad(blasShare.map { String(format: "%.0f", 100 * $0) } ?? "-", 8) + pad("\(samples)", 9)
        }
    }

    private func measure(_ sampler: BlasSampler, _ body: () throws -> Void) rethrows -> Measurement {
        try body()
        var walls: [Double] = []
        var cpus: [Double] = []
        sampler.start()
        for _ in 0..<repeats {
            let t = try BenchEvaluate.Timing.of(body)
            walls.append(t.wall)
            cpus.append(t.cpu)
        }
        let (share, samples) = sampler.stop()
        return Measurement(
            wall: walls.sorted()[repeats / 2], cpu: cpus.sorted()[repeats / 2], blasShare: share, samples: samples)
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
}

// Counters of the SIGPROF handler: plain words written only by the handler.
private var blasLow: UInt = 0
private var blasHigh: UInt = 0
private var samplesTotal = 0
private var samplesInBlas = 0

/// A sampling profiler that tells time in libopenblas from the rest (see `BenchMeta`'s help).
final class BlasSampler {
    /// Whether libopenblas's code was found.
    let available: Bool

    init() {
        blasLow = 0
        blasHigh = 0
        // executable mappings of libopenblas: "start-end r-xp offset dev inode path" lines
        // (read with getline: /proc files report a size of 0, which defeats whole-file readers)
        var lines: [String] = []
        if let file = fopen("/proc/self/maps", "r") {
            var buffer: UnsafeMutablePointer<CChar>?
            var capacity = 0
            while getline(&buffer, &capacity, file) > 0 { lines.append(String(cString: buffer!)) }
            free(buffer)
            fclose(file)
        }
        for line in lines where line.contains("openblas") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].contains("x") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let low = UInt(range[0], radix: 16), let high = UInt(range[1], radix: 16) else {
                continue
            }
            blasLow = blasLow == 0 ? low : min(blasLow, low)
            blasHigh = max(blasHigh, high)
        }
        available = blasHigh > blasLow
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { _, _, context in
            guard let context else { return }
            // gregs.16 is REG_RIP.
            let pc = UInt(
                bitPattern: Int(context.assumingMemoryBound(to: ucontext_t.self).pointee.uc_mcontext.gregs.16))
            samplesTotal += 1
            if pc >= blasLow && pc < blasHigh { samplesInBlas += 1 }
        }
        action.sa_flags = SA_SIGINFO | SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(SIGPROF, &action, nil)
    }

    /// Starts sampling every 1 ms of process CPU time.
    func start() {
        samplesTotal = 0
        samplesInBlas = 0
        var timer = itimerval(
            it_interval: timeval(tv_sec: 0, tv_usec: 1000), it_value: timeval(tv_sec: 0, tv_usec: 1000))
        setitimer(__itimer_which_t(ITIMER_PROF.rawValue), &timer, nil)
    }

    /// Stops sampling; the share of samples in BLAS (`nil` without samples or without BLAS) and
    /// the number of samples.
    func stop() -> (share: Double?, samples: Int) {
        var timer = itimerval()
        setitimer(__itimer_which_t(ITIMER_PROF.rawValue), &timer, nil)
        guard available, samplesTotal > 0 else { return (nil, samplesTotal) }
        return (Double(samplesInBlas) / Double(samplesTotal), samplesTotal)
    }
}
