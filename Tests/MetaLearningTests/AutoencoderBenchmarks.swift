import Foundation
import Kernels
import MetaLearning
import Testing

/// Release-build timings of the autoencoder (skipped unless `ATOLL_BENCHMARK=1`):
///
///     OPENBLAS_NUM_THREADS=1 ATOLL_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing \
///         --no-parallel --filter AutoencoderBenchmarks
///
/// Synthetic token batches with the shapes the Tokenizer gives (C = 32): an MLP 64-32-10 (2,410
/// weights) is 32 neurons of 65 values (3 tokens each) and 10 neurons of 33 values (2 tokens
/// each), 116 tokens; an MLP 64-512-512-10 (301,066 weights) is 512·3 + 512·17 + 10·17 = 10,410
/// tokens. Medians over repeated runs, after warm-up runs; the figures are printed.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ATOLL_BENCHMARK"] == "1"))
struct AutoencoderBenchmarks {
    struct Batch {
        let B: Int, T: Int
        let tokens: [Float], mask: [Float], positions: [Float]

        init(config: MetaLearnerConfig, B: Int, T: Int) {
            var random = RandomStream(seed: 1, purpose: "benchmark tokens")
            self.B = B
            self.T = T
            tokens = (0 ..< B * T * config.tokenValues).map { _ in 0.1 * Float(random.gaussian()) }
            mask = [Float](repeating: 1, count: B * T)
            positions = (0 ..< B * T * config.positionFeatures).map { _ in random.uniformFloat() }
        }
    }

    /// Medians of wall-clock and of this thread's CPU time, in milliseconds. With
    /// `OPENBLAS_NUM_THREADS=1` all the work runs on this thread, so the CPU time is what the step
    /// costs even when other processes share the cores.
    func median(_ repeats: Int, warmUp: Int = 2, _ body: () -> Void) -> (wall: Double, cpu: Double) {
        func cpuNanoseconds() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
        }
        for _ in 0 ..< warmUp { body() }
        var walls = [Double](), cpus = [Double]()
        for _ in 0 ..< repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = cpuNanoseconds()
            body()
            cpus.append((cpuNanoseconds() - cpuStart) / 1e6)
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return (walls.sorted()[repeats / 2], cpus.sorted()[repeats / 2])
    }

    /// zero gradients, forward, fitness head, MSE gradients, backward, clipping, AdamW.
    func trainingStep(_ model: AttentionAutoencoder, _ batch: Batch, _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>) {
        let n = model.parameters.count
        model.zeroGradients()
        batch.tokens.withUnsafeBufferPointer { t in
            batch.mask.withUnsafeBufferPointer { mask in
                batch.positions.withUnsafeBufferPointer { p in
                    model.forward(tokens: t.baseAddress!, mask: mask.baseAddress!, positions: p.baseAddress!, batch: batch.B, tokenCount: batch.T)
                }
            }
        }
        let predictions = model.fitnessHead.forward(latents: model.latents.baseAddress!, batch: batch.B)
        let dPredictions = predictions.map { 2 * $0 / Float(batch.B) }
        var dLatents = [Float](repeating: 0, count: model.latents.count)
        dLatents.withUnsafeMutableBufferPointer { dz in
            dPredictions.withUnsafeBufferPointer { model.fitnessHead.backward(dLatents: dz.baseAddress!, dPredictions: $0.baseAddress!) }
        }
        let scale = 2 / Float(batch.tokens.count)
        let dDecoded = zip(model.decoded, batch.tokens).map { scale * ($0 - $1) }
        dDecoded.withUnsafeBufferPointer { dd in
            dLatents.withUnsafeBufferPointer { model.backward(dDecoded: dd.baseAddress!, dLatents: $0.baseAddress!) }
        }
        clipGradientsByGlobalNorm(model.gradients.baseAddress!, n, maxNorm: 1)
        adamWUpdate(model.parameters.baseAddress!, model.gradients.baseAddress!, m, v, n, learningRate: 1e-3,
                    settings: AdamWSettings(), weightDecay: 0.01, step: 1)
    }

    @Test(arguments: [(32, 116), (32, 84), (8, 10_410)])
    func trainingStepTime(B: Int, T: Int) throws {
        let config = MetaLearnerConfig()
        let model = try AttentionAutoencoder(config: config, seed: 1)
        let n = model.parameters.count
        let m = UnsafeMutablePointer<Float>.allocate(capacity: n), v = UnsafeMutablePointer<Float>.allocate(capacity: n)
        m.initialize(repeating: 0, count: n)
        v.initialize(repeating: 0, count: n)
        defer { m.deallocate(); v.deallocate() }
        let batch = Batch(config: config, B: B, T: T)
        let repeats = T > 1000 ? 3 : 20
        let step = median(repeats) { trainingStep(model, batch, m, v) }
        let forward = median(repeats) {
            batch.tokens.withUnsafeBufferPointer { t in
                batch.mask.withUnsafeBufferPointer { mask in
                    batch.positions.withUnsafeBufferPointer { p in
                        model.forward(tokens: t.baseAddress!, mask: mask.baseAddress!, positions: p.baseAddress!, batch: B, tokenCount: T)
                    }
                }
            }
        }
        print(String(format: "training step B=%d T=%d (%d parameters): %.1f ms wall, %.1f ms thread CPU; forward alone %.1f ms wall, %.1f ms CPU (medians of %d)",
                     B, T, n, step.wall, step.cpu, forward.wall, forward.cpu, repeats))
    }

    /// Decoding with the default sizes, with a smaller token MLP, and with 64 values per token
    /// (MLP 64-512-512-10 at C = 64: 512·2 + 512·9 + 10·9 = 5,722 tokens).
    @Test(arguments: [(64, 116, 2, 32), (64, 10_410, 2, 32), (64, 10_410, 1, 32), (64, 5_722, 2, 64)])
    func decodeTime(B: Int, T: Int, tokenMlpRatio: Int, tokenValues: Int) throws {
        var config = MetaLearnerConfig()
        config.tokenMlpRatio = tokenMlpRatio
        config.tokenValues = tokenValues
        let model = try AttentionAutoencoder(config: config, seed: 1)
        let batch = Batch(config: config, B: B, T: T)
        var random = RandomStream(seed: 2, purpose: "benchmark latents")
        let latents = (0 ..< B * config.latentSize).map { _ in Float(random.gaussian()) }
        let repeats = T > 1000 ? 3 : 20
        let time = median(repeats) {
            latents.withUnsafeBufferPointer { z in
                batch.positions.withUnsafeBufferPointer { model.decode(latents: z.baseAddress!, positions: $0.baseAddress!, batch: B, tokenCount: T) }
            }
        }
        print(String(format: "decode B=%d T=%d (C=%d, tokenMlpRatio=%d): %.1f ms wall, %.1f ms thread CPU (medians of %d)",
                     B, T, tokenValues, tokenMlpRatio, time.wall, time.cpu, repeats))
    }
}
