import ArgumentParser
import Evolution
import Foundation
import IslandModel

extension BenchmarkFunction: ExpressibleByArgument {}

/// `atoll optimize`: runs one of Evolution's algorithms on a standard test function, so it can be
/// compared with other libraries on known ground.
struct Optimize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Minimise a standard test function (sphere, ellipsoid, rosenbrock, rastrigin, ackley) with a GA, SNES or CMA-ES.",
        discussion: """
            Prints one JSON object: the best value f found (the minimum of every function is 0), the \
            evaluations used, the generations, the time and why the run stopped. With --trace, one \
            JSON line per generation comes first. The run stops at --budget evaluations (checked \
            after whole generations) or once f ≤ --target.

            GA: tournaments of 3, simulated binary crossover (η = 15, probability 0.9), \
            self-adaptive Gaussian mutation of 20% of the genes (σ₀ = 5% of the domain's width), \
            reflection at the domain's bounds, 2 elites, --population individuals (default 100), \
            genes uniform in the domain. SNES and CMA-ES: default population 4 + ⌊3 ln D⌋, mean \
            drawn uniformly in the domain, step size a quarter of its width.

            Examples:
              atoll optimize --function rosenbrock --dim 10 --algorithm cmaes --seed 1
              atoll optimize --function rastrigin --dim 10 --algorithm ga --budget 50000 --trace
            """
    )

    enum Algorithm: String, CaseIterable, ExpressibleByArgument {
        case ga, snes, cmaes
    }

    @Option(help: "The test function to minimise.")
    var function: BenchmarkFunction

    @Option(help: "Number of dimensions D.")
    var dim: Int = 10

    @Option(help: "The algorithm.")
    var algorithm: Algorithm

    @Option(help: "Seed of every random stream.")
    var seed: UInt64 = 0

    @Option(help: "Evaluation budget (default 10,000 × D).")
    var budget: Int?

    @Option(help: "Stop once the best f is at most this.")
    var target: Double = 1e-8

    @Option(help: "Population size (GA default 100; SNES and CMA-ES default 4 + ⌊3 ln D⌋).")
    var population: Int?

    @Flag(help: "Print one JSON line per generation before the summary.")
    var trace = false

    func validate() throws {
        guard dim >= 1 else { throw ValidationError("--dim must be at least 1, got \(dim)") }
        if function == .rosenbrock && dim < 2 {
            throw ValidationError("--function rosenbrock needs --dim of at least 2")
        }
        if let budget, budget < 1 { throw ValidationError("--budget must be positive, got \(budget)") }
        if let population, population < (algorithm == .ga ? 3 : 2) {
            throw ValidationError(
                "--population must be at least \(algorithm == .ga ? 3 : 2) for \(algorithm.rawValue), got \(population)"
            )
        }
        guard target >= 0 else {
            throw ValidationError("--target must not be negative (every function's minimum is 0), got \(target)")
        }
        try checkMemory()
    }

    /// Refuses a dimension or population whose vectors (3 copies of the population; CMA-ES also
    /// about 12 D × D matrices) cannot be counted or do not fit the machine's memory limits.
    func checkMemory() throws {
        let lambda = population ?? (algorithm == .ga ? 100 : 4 + Int(3 * log(Double(dim))))
        let (vectors, o1) = lambda.multipliedReportingOverflow(by: dim)
        let (bytes, o2) = vectors.multipliedReportingOverflow(by: 12)
        let (square, o3) = algorithm == .cmaes ? dim.multipliedReportingOverflow(by: dim) : (0, false)
        let (matrices, o4) = square.multipliedReportingOverflow(by: 48)
        let (total, o5) = bytes.addingReportingOverflow(matrices)
        let limit = MemoryEstimate.limits().min { $0.bytes < $1.bytes }
        if o1 || o2 || o3 || o4 || o5 || limit.map({ total > $0.bytes }) ?? false {
            let need = o1 || o2 || o3 || o4 || o5 ? "more than 2^63 bytes" : "about \(MemoryEstimate.format(total))"
            throw ValidationError(
                "--dim \(dim) with a population of \(lambda) needs \(need) for \(algorithm.rawValue)"
                    + (limit.map { ", more than the limit of \(MemoryEstimate.format($0.bytes)) (\($0.source))" } ?? "")
            )
        }
        if budget == nil, 10_000.multipliedReportingOverflow(by: dim).overflow {
            throw ValidationError("--dim \(dim): the default budget 10,000 × D overflows; give --budget")
        }
    }

    func run() throws {
        let (low, high) = function.domain
        let chosen: Optimizer.Algorithm
        switch algorithm {
        case .ga:
            let ga = GeneticAlgorithm(
                selection: .tournament(size: 3), crossover: .simulatedBinary(eta: 15), crossoverProbability: 0.9,
                mutation: Mutation(
                    kind: .selfAdaptive(initialSigma: 0.05 * (high - low), learningRate: nil), genes: .rate(0.2)),
                bounds: GeneBounds(low: low, high: high, handling: .reflect), elites: 2)
            chosen = .genetic(ga, populationSize: population ?? 100)
        case .snes:
            chosen = .snes(populationSize: population)
        case .cmaes:
            chosen = .cmaes(populationSize: population)
        }
        let optimizer = Optimizer(algorithm: chosen, dimension: dim, start: .uniform(low: low, high: high), seed: seed)
        let stop = StopCriteria(maxEvaluations: budget ?? 10_000 * dim, targetFitness: Float(-target))
        let function = self.function
        let result = try optimizer.run(
            stop: stop,
            onGeneration: trace
                ? { report in
                    print(
                        #"{"generation":\#(report.progress.generations),"evaluations":\#(report.progress.evaluations),"#
                            + #""best":\#(json(-report.progress.bestFitness)),"generation_best":\#(json(-report.generationBest)),"#
                            + #""generation_mean":\#(json(-report.generationMean)),"seconds":\#(json(report.progress.elapsedSeconds))}"#
                    )
                    return .continue
                } : nil,
            fitness: { batch in (0..<batch.count).map { -Float(function.value(batch.row($0))) } })
        print(
            #"{"function":"\#(function.rawValue)","dimension":\#(dim),"algorithm":"\#(algorithm.rawValue)","seed":\#(seed),"#
                + #""best":\#(json(-result.bestFitness)),"evaluations":\#(result.progress.evaluations),"#
                + #""generations":\#(result.progress.generations),"seconds":\#(json(result.progress.elapsedSeconds)),"#
                + #""stop":"\#(result.stopReason.rawValue)"}"#)
    }
}

/// A JSON number (`null` for infinities and NaN, which JSON cannot hold).
private func json<F: BinaryFloatingPoint & CVarArg>(_ value: F) -> String {
    value.isFinite ? String(format: "%.9g", Double(value)) : "null"
}
