import ArgumentParser
import Dispatch
import Evolution
import Foundation
import Kernels

/// `atoll bench operators`: the time of one GA generation's operators and of one CMA-ES generation.
struct BenchOperators: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operators",
        abstract: "Time one GA generation (selection + crossover + mutation, no fitness) and one CMA-ES generation.",
        discussion: """
            GA: a population of --population individuals with random genes and fitness; one \
            generation is `breedGeneration` (1 elite copied, then parent selection, crossover with \
            probability 0.9 and mutation for population − 1 children written straight into the next \
            population). The last row per D times the two-step path instead, `breed` into a \
            separate children population then `selectSurvivors` copying elite and children into \
            the next one. Children are made on all cores (ProcessInfo.activeProcessorCount). Prints \
            the median and the fastest of --repeats generations after --warmup, and the genome bytes \
            written per second.

            CMA-ES and SNES: one ask (sampling λ candidates) + tell (update) with random fitness, \
            averaged over --repeats generations after --warmup, so CMA-ES's eigendecomposition \
            (every few generations) is included at its amortised cost; the time of one \
            eigendecomposition is printed on its own.
            """
    )

    @Option(help: "GA population size P.")
    var population: Int = 64

    @Option(help: "GA genome lengths D, comma-separated.")
    var gaDimensions: String = "2410,300000"

    @Option(help: "CMA-ES dimensions, comma-separated.")
    var cmaDimensions: String = "128,1024"

    @Option(help: "Timed generations per row.")
    var repeats: Int = 20

    @Option(help: "Untimed generations before timing.")
    var warmup: Int = 3

    func validate() throws {
        guard population >= 3 else { throw ValidationError("--population must be at least 3, got \(population)") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        guard Self.sizes(gaDimensions) != nil else {
            throw ValidationError(
                "--ga-dimensions must be positive integers separated by commas, got '\(gaDimensions)'")
        }
        guard Self.sizes(cmaDimensions) != nil else {
            throw ValidationError(
                "--cma-dimensions must be positive integers separated by commas, got '\(cmaDimensions)'")
        }
    }

    static func sizes(_ text: String) -> [Int]? {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    /// The operator combinations timed, the first one being `GeneticAlgorithm()`'s defaults.
    static let gaConfigurations: [(name: String, ga: GeneticAlgorithm)] = [
        ("tournament3 uniform gauss@1%", GeneticAlgorithm()),
        (
            "tournament3 one-point gauss@0.1%",
            GeneticAlgorithm(crossover: .onePoint, mutation: Mutation(kind: .gaussian(sigma: 0.1), genes: .rate(0.001)))
        ),
        (
            "rank two-point gauss×100 genes",
            GeneticAlgorithm(
                selection: .rank, crossover: .twoPoint,
                mutation: Mutation(kind: .gaussian(sigma: 0.1), genes: .count(100)))
        ),
        (
            "sus blend0.5 uniform-shift@1%",
            GeneticAlgorithm(
                selection: .stochasticUniversalSampling, crossover: .blend(alpha: 0.5),
                mutation: Mutation(kind: .uniformShift(low: -0.1, high: 0.1), genes: .rate(0.01)))
        ),
        (
            "tournament3 SBX15 self-adaptive@1%",
            GeneticAlgorithm(
                crossover: .simulatedBinary(eta: 15),
                mutation: Mutation(kind: .selfAdaptive(initialSigma: 0.1, learningRate: nil), genes: .rate(0.01)))
        ),
        ("tournament3 uniform gauss@1% clip", GeneticAlgorithm(bounds: GeneBounds(low: -1, high: 1, handling: .clip))),
        (
            "tournament3 uniform gauss@100%",
            GeneticAlgorithm(mutation: Mutation(kind: .gaussian(sigma: 0.1), genes: .rate(1)))
        ),
    ]

    func run() throws {
        print(
            "GA generation, P = \(population) (\(population - 1) children + 1 elite), \(ProcessInfo.processInfo.activeProcessorCount) cores; median and fastest of \(repeats) after \(warmup) warm-up"
        )
        print(pad("operators", 38) + pad("D", 9) + pad("median (ms)", 13) + pad("fastest (ms)", 14) + "genomes GB/s")
        for d in Self.sizes(gaDimensions)! {
            var parents = Population.uniform(
                count: population, dimension: d, low: -1, high: 1, key: StreamKey(seed: 1, generation: 0))
            var random = RandomStream(seed: 1, purpose: "bench fitness")
            parents.fitness = (0..<population).map { _ in random.uniformFloat() }
            var next = Population(count: population, dimension: d)
            let bytes = Double(population * d * MemoryLayout<Float>.size)
            for (name, ga) in Self.gaConfigurations {
                var generation = 0
                let times = measure {
                    generation += 1
                    ga.breedGeneration(parents: parents, into: &next, key: StreamKey(seed: 1, generation: generation))
                }
                print(
                    pad(name, 38) + pad("\(d)", 9) + pad(ms(times.median), 13) + pad(ms(times.fastest), 14)
                        + String(format: "%.2f", bytes / times.median / 1e9))
            }
            let ga = GeneticAlgorithm()
            var children = Population(count: population - 1, dimension: d)
            var generation = 0
            let times = measure {
                generation += 1
                ga.breed(parents: parents, into: &children, key: StreamKey(seed: 1, generation: generation))
                ga.selectSurvivors(parents: parents, children: children, into: &next)
            }
            print(
                pad(Self.gaConfigurations[0].name + " 2-step", 38) + pad("\(d)", 9) + pad(ms(times.median), 13)
                    + pad(ms(times.fastest), 14) + String(format: "%.2f", bytes / times.median / 1e9))
        }

        print(
            "\nEvolution strategy generation (ask + tell, random fitness), mean of \(repeats) after \(warmup) warm-up")
        print(
            pad("strategy", 38) + pad("D", 9) + pad("λ", 6) + pad("mean (ms)", 13)
                + "eigendecomposition (ms), every … generations")
        for d in Self.sizes(cmaDimensions)! {
            var cma = CMAES(mean: [Float](repeating: 0, count: d), stepSize: 0.5)
            let mean = strategyGenerationTime(&cma)
            var probe = cma
            let start = DispatchTime.now().uptimeNanoseconds
            probe.updateEigensystem()
            let eigen = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            print(
                pad("CMA-ES", 38) + pad("\(d)", 9) + pad("\(cma.populationSize)", 6) + pad(ms(mean), 13)
                    + "\(ms(eigen)), every \(cma.eigenInterval)")
        }
        for d in Self.sizes(gaDimensions)! {
            var snes = SNES(mean: [Float](repeating: 0, count: d), stepSize: 0.5)
            let mean = strategyGenerationTime(&snes)
            print(pad("SNES", 38) + pad("\(d)", 9) + pad("\(snes.populationSize)", 6) + pad(ms(mean), 13) + "–")
            var sep = SepCMAES(mean: [Float](repeating: 0, count: d), stepSize: 0.5, populationSize: 64)
            print(
                pad("sep-CMA-ES", 38) + pad("\(d)", 9) + pad("64", 6) + pad(ms(strategyGenerationTime(&sep)), 13) + "–")
            var anchored = SubspaceSNES(
                mean: [Float](repeating: 0, count: d), stepSize: 0.5, latentStepSize: 5, latentSize: 16,
                rebuildEvery: 1,
                populationSize: 64, fullShare: 0, latentShare: 0)
            print(
                pad("SubspaceSNES (anchored latent, k 16, R 1)", 38) + pad("\(d)", 9) + pad("64", 6)
                    + pad(ms(strategyGenerationTime(&anchored)), 13) + "–")
        }
    }

    /// Mean seconds of one ask + tell.
    private func strategyGenerationTime<S: EvolutionStrategy>(_ strategy: inout S) -> Double {
        var candidates = Population(count: strategy.populationSize, dimension: strategy.dimension)
        var random = RandomStream(seed: 2, purpose: "bench fitness")
        var generation = 0
        var total = 0.0
        for round in 0..<warmup + repeats {
            generation += 1
            let start = DispatchTime.now().uptimeNanoseconds
            strategy.ask(into: &candidates, key: StreamKey(seed: 1, generation: generation))
            for k in 0..<candidates.count { candidates.fitness[k] = random.uniformFloat() }
            strategy.tell(candidates)
            if round >= warmup { total += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
        }
        return total / Double(repeats)
    }

    /// Median and fastest seconds of `repeats` calls after `warmup` calls.
    private func measure(_ body: () -> Void) -> (median: Double, fastest: Double) {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        times.sort()
        return (times[times.count / 2], times[0])
    }

    private func ms(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1e3) }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
