import ArgumentParser
import CBLAS
import Foundation
import Kernels
import Networks
import Tasks

/// `atoll bench evaluate`: time population evaluations on digits and CartPole.
struct BenchEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Time fitness evaluations of a population (digits MLPs, CartPole-v1) against cblas_sgemm.",
        discussion: """
            Each case scores a population of --population PyTorch-initialised genomes: one untimed \
            warm-up evaluation, then timed evaluations until --seconds have passed (at least 3, at \
            most 100); the median is reported. evals/s counts genomes scored per second. For digits \
            (training split, 1,438 samples, neg_cross_entropy), GFLOP/s counts the multiply-adds of \
            the linear layers, 2·P·N·Σ in·out per evaluation, over the median time; it is printed \
            next to the rate of cblas_sgemm measured in the same run on 1024×1024×1024 (square) and \
            on the shape of the wide network's middle layer (1438×512×512), both median of 5 after \
            one warm-up. OpenBLAS runs with --threads threads throughout (default 1: the target is \
            at least 60% of single-thread sgemm).
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

    func validate() throws {
        guard population >= 1 else { throw ValidationError("--population must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1") }
    }

    func run() throws {
        openblas_set_num_threads(Int32(threads))
        let square = sgemmRate(m: 1024, n: 1024, k: 1024)
        let layerShaped = sgemmRate(m: 1438, n: 512, k: 512)
        print("OpenBLAS \(String(cString: openblas_get_corename())), \(threads) thread(s); population \(population); median after warm-up")
        print(String(format: "cblas_sgemm 1024x1024x1024: %.1f GFLOP/s; 1438x512x512: %.1f GFLOP/s", square, layerShaped))
        print(pad("case", 34) + pad("ms/eval", 10) + pad("evals/s", 11) + pad("GFLOP/s", 9) + pad("% sgemm", 9) + "fitness (mean)")

        var digitsOptions = TaskOptions()
        digitsOptions.data = data
        let digits = try TaskCatalog.make("digits", options: digitsOptions)
        var controlOptions = TaskOptions()
        controlOptions.episodes = episodes
        let cartPole = try TaskCatalog.make("CartPole-v1", options: controlOptions)
        let cases: [(String, any FitnessTask, [Int])] = [
            ("digits mlp 64-32-10", digits, [64, 32, 10]),
            ("digits mlp 64-512-512-10", digits, [64, 512, 512, 10]),
            ("CartPole-v1 mlp 4-16-2 (\(episodes) ep)", cartPole, [4, 16, 2]),
        ]
        for (name, task, sizes) in cases {
            let network = try Network(spec: .mlp(sizes))
            var stream = RandomStream(seed: 1, purpose: "bench-population")
            var genomes: [Float] = []
            for _ in 0 ..< population { genomes += network.initializedGenome(stream: &stream) }
            var fitness = [Float](repeating: 0, count: population)
            var generation = 0
            func evaluateOnce() throws -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                try genomes.withUnsafeBufferPointer { g in
                    try fitness.withUnsafeMutableBufferPointer { f in
                        try task.evaluate(genomes: g, populationSize: population, network: network, generation: generation, seed: 1, fitness: f)
                    }
                }
                generation += 1
                return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            }
            _ = try evaluateOnce()
            var times: [Double] = []
            var meanFitness = 0.0
            let budgetStart = DispatchTime.now().uptimeNanoseconds
            while times.count < 3 || (times.count < 100 && Double(DispatchTime.now().uptimeNanoseconds - budgetStart) * 1e-9 < seconds) {
                times.append(try evaluateOnce())
                meanFitness += fitness.reduce(0) { $0 + Double($1) } / Double(population)
            }
            meanFitness /= Double(times.count)
            times.sort()
            let median = times[times.count / 2]
            var line = pad(name, 34) + pad(String(format: "%.2f", median * 1e3), 10) + pad(String(format: "%.0f", Double(population) / median), 11)
            if let dataset = task as? DatasetTask {
                var multiplyAdds = 0
                for l in 1 ..< sizes.count { multiplyAdds += sizes[l - 1] * sizes[l] }
                let flops = 2.0 * Double(population * dataset.train.sampleCount * multiplyAdds)
                let rate = flops / median / 1e9
                line += pad(String(format: "%.1f", rate), 9) + pad(String(format: "%.0f%%", 100 * rate / square), 9)
            } else {
                line += pad("-", 9) + pad("-", 9)
            }
            print(line + String(format: "%.4g %@", meanFitness, task.fitnessName))
        }
    }

    /// Median GFLOP/s of `cblas_sgemm` computing C[m×n] = A[m×k]·B[n×k]ᵀ (the network's layout).
    private func sgemmRate(m: Int, n: Int, k: Int) -> Double {
        var stream = RandomStream(seed: 2, purpose: "bench-sgemm")
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: n * k)
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeMutableBufferPointer { stream.fillUniform($0, low: -1, high: 1) }
        b.withUnsafeMutableBufferPointer { stream.fillUniform($0, low: -1, high: 1) }
        var times: [Double] = []
        for i in 0 ..< 6 {
            let start = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k), 0, &c, Int32(n))
            if i > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
        }
        times.sort()
        return 2 * Double(m) * Double(n) * Double(k) / times[times.count / 2] / 1e9
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
