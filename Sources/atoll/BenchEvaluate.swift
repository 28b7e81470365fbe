import ArgumentParser
import CBLAS
import Foundation
import Kernels
import Networks
import Tasks

/// `atoll bench evaluate`: time population evaluations on digits, Fashion-MNIST and CartPole.
struct BenchEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract:
            "Time fitness evaluations of a population (digits MLPs, two Fashion-MNIST CNNs, CartPole-v1) against cblas_sgemm.",
        discussion: """
            Each case scores a population of --population PyTorch-initialised genomes: one untimed \
            warm-up evaluation, then timed evaluations until --seconds have passed (at least 3, at \
            most 100); medians are reported. Every timing is taken twice: wall-clock time, and the \
            CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), which leaves out time the \
            thread spent descheduled on a busy machine; with one OpenBLAS thread on an idle machine \
            they agree. evals/s counts genomes scored per wall-clock second. For digits (training \
            split, 1,438 samples, neg_cross_entropy) and Fashion-MNIST (the CNN of \
            configs/fashion-cnn.yaml and EvoJAX's MNIST ConvNet of \
            configs/networks/evojax-mnist-cnn.yaml, on a minibatch of --batch training images) \
            GFLOP/s counts the \
            multiply-adds of the linear and conv2d layers, 2·P·N·Σ in·out (OC·OH·OW·IC·K·K for a \
            convolution) per evaluation, over the median CPU time, and "% sgemm" compares \
            it with cblas_sgemm measured in the same run on 1024×1024×1024 (median CPU time of 11 \
            after one warm-up). "forward ms" is the network's forward pass alone over the training \
            split and "loss ms" the cross-entropy of those outputs (CPU time, median of 5); for \
            MLPs both are the tiled feature-major pass the evaluation uses, the loss timed on \
            stored tiles (out of cache, so a little slower than inside the evaluation). \
            For networks with convolutions a line gives the forward pass alone as GFLOP/s and \
            share of sgemm (target: at least 50%), beside the same pass with every convolution as \
            im2col + GEMM; then a table times each of their conv layers (with the relu and 2x2 \
            pool after it) and some wider ones both ways, 16 genomes, and names the one \
            ConvolutionAlgorithm.directWins picks. The Fashion-MNIST cases run when the files are \
            installed (Debian package dataset-fashion-mnist) or --fashion names their folder. \
            OpenBLAS runs with --threads threads throughout (default 1: the target is at least 60% \
            of single-thread sgemm).
            """
    )

    @Option(help: "Genomes per population.")
    var population: Int = 64

    @Option(help: "Seconds of timed evaluations per case (after warm-up).")
    var seconds: Double = 3

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1

    @Option(help: "Episodes per genome for CartPole-v1.")
    var episodes: Int = 1

    @Option(help: "Digits data file or folder (default: searched as for atoll evaluate).")
    var data: String?

    @Option(help: "Folder of the Fashion-MNIST IDX files (default: the Debian package's).")
    var fashion: String?

    @Option(help: "Minibatch of the Fashion-MNIST case, in training images.")
    var batch: Int = 256

    /// The CNN of configs/fashion-cnn.yaml (14,410 weights).
    static let fashionCNN = """
        input: [1, 28, 28]
        layers:
          - conv2d: {out_channels: 8, kernel: 3}
          - relu
          - maxpool2d: 2
          - conv2d: {out_channels: 16, kernel: 3}
          - relu
          - maxpool2d: 2
          - flatten
          - linear: 32
          - relu
          - linear: 10
        """

    /// EvoJAX's MNIST ConvNet (11,274 weights), as in configs/networks/evojax-mnist-cnn.yaml.
    static let evojaxCNN = """
        input: [1, 28, 28]
        layers:
          - conv2d: {out_channels: 8, kernel: 5, padding: 2}
          - relu
          - maxpool2d: 2
          - conv2d: {out_channels: 16, kernel: 5, padding: 2}
          - relu
          - maxpool2d: 2
          - flatten
          - linear: 10
        """

    func validate() throws {
        guard population >= 1 else { throw ValidationError("--population must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    /// Wall-clock and thread CPU seconds of one call.
    struct Timing {
        var wall: Double
        var cpu: Double

        static func of(_ body: () throws -> Void) rethrows -> Timing {
            let wall0 = DispatchTime.now().uptimeNanoseconds
            let cpu0 = threadCPUSeconds()
            try body()
            return Timing(
                wall: Double(DispatchTime.now().uptimeNanoseconds - wall0) * 1e-9, cpu: threadCPUSeconds() - cpu0)
        }

        static func threadCPUSeconds() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
        }

        /// Element-wise medians.
        static func median(_ timings: [Timing]) -> Timing {
            let wall = timings.map(\.wall).sorted()
            let cpu = timings.map(\.cpu).sorted()
            return Timing(wall: wall[wall.count / 2], cpu: cpu[cpu.count / 2])
        }
    }

    func run() throws {
        openblas_set_num_threads(Int32(threads))
        let sgemm = sgemmRate(m: 1024, n: 1024, k: 1024)
        print(
            "OpenBLAS \(String(cString: openblas_get_corename())), \(threads) thread(s); population \(population); medians after warm-up"
        )
        print(
            String(
                format: "cblas_sgemm 1024x1024x1024: %.1f GFLOP/s (CPU time), %.1f GFLOP/s (wall)", sgemm.cpu,
                sgemm.wall))
        if let hint = openBLASCoreHint() { print(hint) }
        print(
            pad("case", 34) + pad("wall ms", 10) + pad("cpu ms", 10) + pad("evals/s", 10) + pad("GFLOP/s", 9)
                + pad("% sgemm", 9)
                + pad("forward ms", 12) + pad("loss ms", 9) + "fitness (mean)")

        var digitsOptions = TaskOptions()
        digitsOptions.data = data
        let digits = try TaskCatalog.make("digits", options: digitsOptions)
        var controlOptions = TaskOptions()
        controlOptions.episodes = episodes
        let cartPole = try TaskCatalog.make("CartPole-v1", options: controlOptions)
        var cases: [(String, any FitnessTask, NetworkSpec)] = [
            ("digits mlp 64-32-10", digits, .mlp([64, 32, 10])),
            ("digits mlp 64-512-512-10", digits, .mlp([64, 512, 512, 10])),
        ]
        if fashion != nil || FileManager.default.fileExists(atPath: FashionMNIST.defaultFolder) {
            let task = try DatasetTask.fashionMNIST(folder: fashion, batch: batch)
            cases.append(("fashion cnn 14k (batch \(batch))", task, try NetworkSpec.parse(Self.fashionCNN)))
            cases.append(("fashion evojax cnn 11k (batch \(batch))", task, try NetworkSpec.parse(Self.evojaxCNN)))
        } else {
            print("(Fashion-MNIST case skipped: install dataset-fashion-mnist or pass --fashion DIR)")
        }
        cases.append(("CartPole-v1 mlp 4-16-2 (\(episodes) ep)", cartPole, .mlp([4, 16, 2])))
        var convForwardLines: [String] = []
        var convLayers: [(String, NetworkSpec, Bool)] = []
        for (name, task, spec) in cases {
            let network = try Network(spec: spec)
            var stream = RandomStream(seed: 1, purpose: "bench-population")
            var genomes: [Float] = []
            for _ in 0..<population { genomes += network.initializedGenome(stream: &stream) }
            var fitness = [Float](repeating: 0, count: population)
            var generation = 0
            func evaluateOnce() throws -> Timing {
                defer { generation += 1 }
                return try Timing.of {
                    try genomes.withUnsafeBufferPointer { g in
                        try fitness.withUnsafeMutableBufferPointer { f in
                            try task.evaluate(
                                genomes: g, populationSize: population, network: network, generation: generation,
                                seed: 1, fitness: f)
                        }
                    }
                }
            }
            _ = try evaluateOnce()
            var timings: [Timing] = []
            var meanFitness = 0.0
            let budgetStart = DispatchTime.now().uptimeNanoseconds
            while timings.count < 3
                || (timings.count < 100 && Double(DispatchTime.now().uptimeNanoseconds - budgetStart) * 1e-9 < seconds)
            {
                timings.append(try evaluateOnce())
                meanFitness += fitness.reduce(0) { $0 + Double($1) } / Double(population)
            }
            meanFitness /= Double(timings.count)
            let median = Timing.median(timings)
            var line =
                pad(name, 34) + pad(String(format: "%.2f", median.wall * 1e3), 10)
                + pad(String(format: "%.2f", median.cpu * 1e3), 10)
                + pad(String(format: "%.0f", Double(population) / median.wall), 10)
            if let dataset = task as? DatasetTask {
                // The samples one evaluation scores: the whole training split, or a minibatch.
                let samples =
                    dataset.batch == nil
                    ? dataset.train : dataset.train.subset(dataset.minibatchIndices(generation: 0, seed: 1))
                let flops = 2.0 * Double(population * samples.sampleCount) * Double(try Self.multiplyAdds(spec))
                let rate = flops / median.cpu / 1e9
                let (forward, loss) = forwardAndLoss(samples, network: network, genomes: genomes)
                line +=
                    pad(String(format: "%.1f", rate), 9) + pad(String(format: "%.0f%%", 100 * rate / sgemm.cpu), 9)
                    + pad(String(format: "%.2f", forward * 1e3), 12) + pad(String(format: "%.2f", loss * 1e3), 9)
                if spec.layers.contains(where: { if case .conv2d = $0 { true } else { false } }) {
                    let forwardRate = flops / forward / 1e9
                    network.convolutionAlgorithm = .im2col
                    let im2colRate = flops / forwardAndLoss(samples, network: network, genomes: genomes).0 / 1e9
                    network.convolutionAlgorithm = .automatic
                    convForwardLines.append(
                        String(
                            format:
                                "%@: forward alone %.1f GFLOP/s (CPU time) = %.0f%% of the sgemm rate above (all convolutions as im2col + GEMM: %.1f GFLOP/s = %.0f%%)",
                            name, forwardRate, 100 * forwardRate / sgemm.cpu, im2colRate, 100 * im2colRate / sgemm.cpu))
                    convLayers += Self.convLayerSpecs(spec, named: name)
                }
            } else {
                line += pad("-", 9) + pad("-", 9) + pad("-", 12) + pad("-", 9)
            }
            print(line + String(format: "%.4g %@", meanFitness, task.fitnessName))
        }
        for line in convForwardLines { print(line) }
        if !convLayers.isEmpty { try convLayerTable(convLayers + Self.widerConvLayers, sgemm: sgemm.cpu) }
    }

    /// Each conv2d layer of `spec` with the activation and max-pool that follow it, as a network of
    /// its own on the layer's input shape: (name, spec, whether every genome sees the same input —
    /// true for a first layer on the dataset's images).
    static func convLayerSpecs(_ spec: NetworkSpec, named name: String) -> [(String, NetworkSpec, Bool)] {
        guard let shapes = try? spec.shapes() else { return [] }
        var layers: [(String, NetworkSpec, Bool)] = []
        for (index, layer) in spec.layers.enumerated() {
            guard case .conv2d(let OC, let K, _, let pad) = layer else { continue }
            var end = index + 1
            while end < spec.layers.count {
                if case .activation(let activation) = spec.layers[end], activation.isElementwise {
                    end += 1
                    continue
                }
                if case .maxPool2d = spec.layers[end] { end += 1 }
                break
            }
            let input = shapes[index]
            let label =
                "\(name.split(separator: " ").prefix(3).joined(separator: " ")) L\(index) \(input[0])→\(OC) \(K)x\(K) p\(pad) \(input[1])x\(input[2])"
            layers.append((label, NetworkSpec(input: input, layers: Array(spec.layers[index..<end])), index == 0))
        }
        return layers
    }

    /// Wider layers than the evolved nets use, to show where im2col + GEMM wins (conv, relu, pool 2).
    static let widerConvLayers: [(String, NetworkSpec, Bool)] = [
        (8, 32, 28), (16, 32, 14), (32, 32, 14), (32, 64, 14), (64, 64, 14), (64, 128, 14), (16, 16, 7), (32, 32, 7),
        (64, 64, 7), (64, 128, 7),
    ].map { c, oc, size in
        (
            "wider \(c)→\(oc) 3x3 p1 \(size)x\(size)",
            NetworkSpec(
                input: [c, size, size],
                layers: [
                    .conv2d(outChannels: oc, kernel: 3, stride: 1, padding: 1), .activation(.relu),
                    .maxPool2d(kernel: 2, stride: 2),
                ]),
            false
        )
    }

    /// Times each layer of `layers` (with its relu and pool) as direct convolution and as
    /// im2col + GEMM on per-genome random inputs (shared inputs for first layers), 16 genomes,
    /// as many samples as make about 2 GFLOP per call, median CPU time of 5 after a warm-up.
    private func convLayerTable(_ layers: [(String, NetworkSpec, Bool)], sgemm: Double) throws {
        print(
            "conv layer shapes (conv2d with the relu and 2x2 pool after it; 16 genomes; GFLOP/s and share of the sgemm rate, CPU time):"
        )
        print(pad("layer", 42) + pad("direct", 16) + pad("im2col+GEMM", 16) + "automatic picks")
        for (name, spec, shared) in layers {
            let network = try Network(spec: spec)
            let P = 16
            let multiplyAdds = Double(try Self.multiplyAdds(spec))
            let B = max(4, min(4096, Int(1e9 / (Double(P) * multiplyAdds))))
            var stream = RandomStream(seed: 3, purpose: "bench-conv-layer")
            var genomes: [Float] = []
            for _ in 0..<P { genomes += network.initializedGenome(stream: &stream) }
            var inputs = [Float](repeating: 0, count: (shared ? 1 : P) * B * network.inputSize)
            inputs.withUnsafeMutableBufferPointer { stream.fillUniform($0, low: -1, high: 1) }
            var outputs = [Float](repeating: 0, count: P * B * network.outputSize)
            var cells: [String] = []
            for algorithm in [ConvolutionAlgorithm.direct, .im2col] {
                network.convolutionAlgorithm = algorithm
                if algorithm == .direct && !network.hasDirectConvolution {
                    cells.append(pad("n/a", 16))
                    continue
                }
                var timings: [Timing] = []
                for i in 0..<6 {
                    let t = Timing.of {
                        genomes.withUnsafeBufferPointer { g in
                            inputs.withUnsafeBufferPointer { x in
                                outputs.withUnsafeMutableBufferPointer { y in
                                    network.forward(
                                        genomes: g, populationSize: P, inputs: x, batchSize: B, sharedInputs: shared,
                                        outputs: y)
                                }
                            }
                        }
                    }
                    if i > 0 { timings.append(t) }
                }
                let rate = 2 * Double(P * B) * multiplyAdds / Timing.median(timings).cpu / 1e9
                cells.append(pad(String(format: "%.1f (%.0f%%)", rate, 100 * rate / sgemm), 16))
            }
            network.convolutionAlgorithm = .automatic
            print(pad(name, 42) + cells.joined() + (network.hasDirectConvolution ? "direct" : "im2col"))
        }
    }

    /// Multiply-adds of one sample's forward pass: `in·out` per linear layer, `OC·OH·OW·IC·K·K`
    /// per convolution (activations and pooling not counted).
    static func multiplyAdds(_ spec: NetworkSpec) throws -> Int {
        let shapes = try spec.shapes()
        var total = 0
        for (index, layer) in spec.layers.enumerated() {
            switch layer {
            case .linear(let out, _): total += shapes[index][0] * out
            case .conv2d(_, let kernel, _, _):
                total += shapes[index + 1].reduce(1, *) * shapes[index][0] * kernel * kernel
            case .maxPool2d, .flatten, .activation: break
            }
        }
        return total
    }

    /// Median CPU seconds of the forward pass alone and of the loss alone, over `samples` (the
    /// training split, or the minibatch an evaluation scores), computed as `DatasetTask.evaluate`
    /// computes them: tile by tile on feature-major outputs when the network supports it (the loss
    /// then timed on a copy of every tile), else the whole batch's outputs followed by the loss.
    private func forwardAndLoss(_ samples: Dataset, network: Network, genomes: [Float]) -> (Double, Double) {
        let N = samples.sampleCount
        if network.supportsFeatureMajorForward {
            return tiledForwardAndLoss(samples, network: network, genomes: genomes)
        }
        var outputs = [Float](repeating: 0, count: population * N * network.outputSize)
        var forward: [Timing] = []
        for i in 0..<6 {
            let t = Timing.of {
                genomes.withUnsafeBufferPointer { g in
                    samples.features.withUnsafeBufferPointer { x in
                        outputs.withUnsafeMutableBufferPointer { y in
                            network.forward(
                                genomes: g, populationSize: population, inputs: x, batchSize: N, sharedInputs: true,
                                outputs: y)
                        }
                    }
                }
            }
            if i > 0 { forward.append(t) }
        }
        let loss = SupervisedLoss(dataset: samples, output: ClassifierOutput(spec: network.spec))
        var losses = [Float](repeating: 0, count: population)
        var lossTimes: [Timing] = []
        for i in 0..<6 {
            let t = Timing.of {
                outputs.withUnsafeBufferPointer { y in
                    losses.withUnsafeMutableBufferPointer {
                        loss.forward(losses: $0, outputs: y, populationSize: population, samples: 0..<N)
                    }
                }
            }
            if i > 0 { lossTimes.append(t) }
        }
        return (Timing.median(forward).cpu, Timing.median(lossTimes).cpu)
    }

    private func tiledForwardAndLoss(_ samples: Dataset, network: Network, genomes: [Float]) -> (Double, Double) {
        let N = samples.sampleCount
        var tiles: [(first: Int, count: Int, samples: Range<Int>, offset: Int)] = []
        var stored: [Float] = []
        var forward: [Timing] = []
        for i in 0..<6 {
            let t = Timing.of {
                genomes.withUnsafeBufferPointer { g in
                    samples.features.withUnsafeBufferPointer { x in
                        network.forwardFeatureMajor(genomes: g, populationSize: population, inputs: x, batchSize: N) {
                            first, count, samples, outputs in
                            if i == 0 {
                                tiles.append((first, count, samples, stored.count))
                                stored += UnsafeBufferPointer(
                                    start: outputs, count: count * network.outputSize * samples.count)
                            }
                        }
                    }
                }
            }
            if i > 0 { forward.append(t) }
        }
        let loss = SupervisedLoss(dataset: samples, output: ClassifierOutput(spec: network.spec))
        var sums = [Double](repeating: 0, count: population)
        var lossTimes: [Timing] = []
        for i in 0..<6 {
            let t = Timing.of {
                stored.withUnsafeBufferPointer { y in
                    sums.withUnsafeMutableBufferPointer { s in
                        for tile in tiles {
                            loss.accumulateFeatureMajor(
                                sums: s.baseAddress! + tile.first, outputs: y.baseAddress! + tile.offset,
                                genomeCount: tile.count, samples: tile.samples)
                        }
                    }
                }
            }
            if i > 0 { lossTimes.append(t) }
        }
        return (Timing.median(forward).cpu, Timing.median(lossTimes).cpu)
    }

    /// Median GFLOP/s of `cblas_sgemm` computing C[m×n] = A[m×k]·B[n×k]ᵀ (the network's layout).
    private func sgemmRate(m: Int, n: Int, k: Int) -> Timing {
        var stream = RandomStream(seed: 2, purpose: "bench-sgemm")
        var a = [Float](repeating: 0, count: m * k)
        var b = [Float](repeating: 0, count: n * k)
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeMutableBufferPointer { stream.fillUniform($0, low: -1, high: 1) }
        b.withUnsafeMutableBufferPointer { stream.fillUniform($0, low: -1, high: 1) }
        var timings: [Timing] = []
        for i in 0..<12 {
            let t = Timing.of {
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k),
                    0, &c, Int32(n))
            }
            if i > 0 { timings.append(t) }
        }
        let median = Timing.median(timings)
        let flops = 2 * Double(m) * Double(n) * Double(k)
        return Timing(wall: flops / median.wall / 1e9, cpu: flops / median.cpu / 1e9)
    }

    /// A note when OpenBLAS fell back to its generic x86-64 kernels on a CPU with AVX2 or AVX-512
    /// (it does so when it does not recognise the CPU model, as on some virtual machines).
    private func openBLASCoreHint() -> String? {
        let core = String(cString: openblas_get_corename()).lowercased()
        guard ["prescott", "core2", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias"].contains(core),
            let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let words = Set(flags.split(separator: " ").map(String.init))
        let suggestion = words.contains("avx512f") ? "SkylakeX" : words.contains("avx2") ? "Haswell" : nil
        return suggestion.map {
            "note: OpenBLAS chose its generic \(core) kernels but this CPU has \($0 == "SkylakeX" ? "AVX-512" : "AVX2"); "
                + "OPENBLAS_CORETYPE=\($0) makes sgemm several times faster"
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
