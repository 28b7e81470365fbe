import Foundation
import Kernels
import Testing

@testable import Evolution

/// `SubspaceSNES`'s decoded residuals and attention focus: the candidates they make and the update
/// they lead to, against a float64 transcription of the formulas in the type's documentation.
struct SubspaceSNESPartsTests {
    static let n = 12, k = 3, m = 4, lambda = 8

    /// A strategy run 4 generations on the sphere (the basis exists from generation 4 on).
    static func started(decoderShare: Double = 0, focusShare: Double = 0, focusNeurons: Int = 0, center: Bool = false)
        -> (SubspaceSNES, Population)
    {
        var s = SubspaceSNES(
            mean: [Float](repeating: 1, count: n), stepSize: 0.3, latentStepSize: 0.5, latentSize: k, rebuildEvery: 2,
            populationSize: lambda, fullShare: 0, latentShare: 0, decoderShare: decoderShare, decoderLatentSize: m,
            focusShare: focusShare, focusNeurons: focusNeurons, evaluatesCenter: center)
        var population = Population(count: lambda, dimension: n)
        for _ in 0..<4 { step(&s, &population) }
        #expect(s.basisGeneration != nil)
        return (s, population)
    }

    /// tell (when there are samples), ask, and a linear decoder `D(v) = A v` for the residual rows.
    static func step(_ s: inout SubspaceSNES, _ population: inout Population, decoder: [Double]? = nil) {
        if s.sampledKey != nil { s.tell(population) }
        s.ask(into: &population, key: StreamKey(seed: 9, generation: s.generation + 1))
        if let decoder, let request = s.residualRequest {
            var corrections = [Float](repeating: 0, count: request.rows.count * n)
            for b in 0..<request.rows.count {
                for j in 0..<n {
                    corrections[b * n + j] = Float(
                        (0..<m).reduce(0.0) { $0 + decoder[j * m + $1] * Double(request.latents[b * m + $1]) })
                }
            }
            s.addResiduals(corrections, to: &population)
        }
        for r in 0..<population.count {
            population.fitness[r] = -Float(BenchmarkFunction.sphere.value(population.row(r)))
        }
    }

    @Test func residualRowsAndUpdateMatchTheFormulas() {
        var (s, population) = Self.started(decoderShare: 0.25)
        #expect(
            s.decoderRows == 2 && s.decoderLatentSize == Self.m && s.residualRequest == nil,
            "no residual before activation")
        var random = RandomStream(seed: 5, purpose: "linear decoder")
        let A = (0..<Self.n * Self.m).map { _ in random.gaussian() * 0.2 }
        s.activateDecoder(stepSizes: [0.2, 0.3, 0.4, 0.5])
        Self.step(&s, &population, decoder: A)
        // The residual rows are the last two; their latents are ρ ⊙ w with w from (.decoding, row).
        let request = try! #require(s.residualRequest)
        #expect(request.rows == 6..<8)
        for (offset, r) in request.rows.enumerated() {
            var w = StreamKey(seed: 9, generation: s.generation + 1).stream(.decoding, individual: r)
            for i in 0..<Self.m { #expect(request.latents[offset * Self.m + i] == s.rho[i] * Float(w.gaussian())) }
        }
        #expect(
            (0..<Self.lambda).map { s.candidateKind(row: $0) } == [
                "guided", "guided", "guided", "guided", "guided", "guided", "decoded", "decoded",
            ])

        // The update in Double.
        let (n, k, m) = (Self.n, Self.k, Self.m)
        let before = s
        let order = population.ranking()
        var gradMean = [Double](repeating: 0, count: n)
        var gradSigma = [Double](repeating: 0, count: n)
        var gradLatent = [Double](repeating: 0, count: k)
        var gradTau = [Double](repeating: 0, count: k)
        var residualStep = [Double](repeating: 0, count: n)
        var gradRho = [Double](repeating: 0, count: m)
        var meanOfSteps = [Double](repeating: 0, count: n)
        for (rank, r) in order.enumerated() {
            let u = Double(before.utilities[rank])
            for j in 0..<n {
                var latentPart = 0.0
                for i in 0..<k {
                    latentPart +=
                        Double(before.basis[i * n + j]) * Double(before.tau[i])
                        * Double(before.latentNormals[r * k + i])
                }
                let x = Double(population.genes[r * n + j])
                let mu = Double(before.mean[j])
                let residual = r >= 6 ? Double(before.residuals[r * n + j]) : 0
                let sNormal = (x - mu - latentPart - residual) / Double(before.sigma[j])
                gradMean[j] += u * sNormal
                gradSigma[j] += u * (sNormal * sNormal - 1)
                residualStep[j] += u * residual
                meanOfSteps[j] += u * (x - mu)
            }
            for i in 0..<k {
                let z = Double(before.latentNormals[r * k + i])
                gradLatent[i] += u * z
                gradTau[i] += u * (z * z - 1)
            }
            if r >= 6 {
                for i in 0..<m {
                    let w = Double(before.residualNormals[r * m + i])
                    gradRho[i] += u * (w * w - 1)
                }
            }
        }
        // Residual rows really carry D(ρ ⊙ w): the residual equals A (ρ ⊙ w).
        for r in 6..<8 {
            for j in 0..<n {
                let expected = (0..<m).reduce(0.0) {
                    $0 + A[j * m + $1] * Double(before.rho[$1]) * Double(before.residualNormals[r * m + $1])
                }
                #expect(abs(Double(before.residuals[r * n + j]) - expected) < 1e-5)
            }
        }
        s.tell(population)
        let eta = Double(before.learningRateMean)
        for j in 0..<n {
            var latentStep = 0.0
            for i in 0..<k { latentStep += Double(before.basis[i * n + j]) * Double(before.tau[i]) * gradLatent[i] }
            let expected =
                Double(before.mean[j]) + eta * (Double(before.sigma[j]) * gradMean[j] + latentStep + residualStep[j])
            #expect(abs(Double(s.mean[j]) - expected) < 1e-5, "μ[\(j)]")
            // Every part moves the mean by the steps it took: μ' − μ = η Σ u (x − μ).
            #expect(abs(Double(s.mean[j] - before.mean[j]) - eta * meanOfSteps[j]) < 1e-5, "μ[\(j)] by the steps")
            let sigma = Double(before.sigma[j]) * exp(0.5 * Double(before.learningRateSigma) * gradSigma[j])
            #expect(abs(Double(s.sigma[j]) - sigma) < 1e-5 * sigma, "σ[\(j)]")
        }
        for i in 0..<m {
            let rho = Double(before.rho[i]) * exp(0.5 * Double(before.learningRateRho) * gradRho[i])
            #expect(abs(Double(s.rho[i]) - rho) < 1e-5 * rho, "ρ[\(i)]")
            #expect(s.rho[i] != before.rho[i])
        }
    }

    @Test func anImmigrantInAResidualRowCarriesNoResidual() {
        var (s, population) = Self.started(decoderShare: 0.25)
        s.activateDecoder(stepSizes: [Float](repeating: 0.3, count: Self.m))
        Self.step(&s, &population, decoder: [Double](repeating: 0.1, count: Self.n * Self.m))
        var immigrant = Population(count: 1, dimension: Self.n)
        for j in 0..<Self.n { immigrant.genes[j] = s.mean[j] + 0.01 }
        immigrant.fitness[0] = 10
        immigrant.assignIDs(key: StreamKey(seed: 77, island: 3, generation: 1))
        population.copyIndividual(0, of: immigrant, to: 7)
        let before = s
        s.tell(population)
        // The immigrant ranks first: the mean moves towards it by at most its own (unclipped) step,
        // and ρ's gradient leaves its row out.
        #expect(
            s.residuals[7 * Self.n..<8 * Self.n].allSatisfy { $0 == 0 }
                && s.residualNormals[7 * Self.m..<8 * Self.m].allSatisfy { $0 == 0 })
        #expect(s.mean.allSatisfy(\.isFinite) && s.rho.allSatisfy { $0 > 0 && $0.isFinite })
        #expect(s.mean != before.mean)
    }

    /// With focus on every row, 4 neurons of 3 genes each and one neuron of weight 10⁻¹²: each
    /// candidate moves (outside the basis) only the genes of the neuron it drew, never the
    /// unweighted one, whose step sizes then never change.
    @Test func focusedRowsMutateOnlyTheirNeurons() {
        var (s, population) = Self.started(focusShare: 1, focusNeurons: 1)
        #expect(s.focusRows == Self.lambda && s.focusNeurons == 1)
        let neurons: [Int32] = (0..<Self.n).map { Int32($0 / 3) }
        s.activateFocus(weights: [1e-12, 1, 1, 1], geneNeurons: neurons)
        var sigma0: [Float] = []
        var chosenCounts = [Int](repeating: 0, count: 4)
        for generation in 0..<6 {
            Self.step(&s, &population)  // its tell is the last generation's: unfocused the first time
            if generation == 0 { sigma0 = Array(s.sigma[0..<3]) }
            let (n, k) = (Self.n, Self.k)
            for r in 0..<Self.lambda {
                #expect(s.candidateKind(row: r) == "focus")
                let chosen = Int(s.focusChosen[r])
                chosenCounts[chosen] += 1
                for j in 0..<n {
                    var latentPart: Float = 0
                    for i in 0..<k { latentPart += s.basis[i * n + j] * s.tau[i] * s.latentNormals[r * k + i] }
                    let fullPart = population.genes[r * n + j] - s.mean[j] - latentPart
                    if Int(neurons[j]) != chosen {
                        #expect(abs(fullPart) < 1e-5, "row \(r), gene \(j) outside neuron \(chosen)")
                    }
                }
            }
        }
        #expect(chosenCounts[0] == 0 && chosenCounts[1...3].allSatisfy { $0 > 0 }, "\(chosenCounts)")
        let before = s.sigma
        s.tell(population)
        #expect(Array(s.sigma[0..<3]) == sigma0, "a neuron no candidate mutated keeps its step sizes")
        #expect((3..<12).contains { s.sigma[$0] != before[$0] }, "the mutated neurons' step sizes adapt")
    }

    /// Neurons are drawn in proportion to their weights: one of weight 100 against three of 1 is
    /// drawn in nearly every row.
    @Test func focusFollowsTheWeights() {
        var (s, population) = Self.started(focusShare: 1, focusNeurons: 1)
        s.activateFocus(weights: [100, 1, 1, 1], geneNeurons: (0..<Self.n).map { Int32($0 / 3) })
        var heavy = 0
        for _ in 0..<5 {
            Self.step(&s, &population)
            heavy += s.focusChosen.filter { $0 == 0 }.count
        }
        #expect(heavy >= 34, "neuron 0 drawn in \(heavy) of 40 rows (expected about 39)")
    }

    /// With the center on, row 0 is the anchor exactly and counts in the ranking only: the mean,
    /// σ and τ move as the other rows alone say (the center's own utility is spent on nothing).
    @Test func centerRowIsTheAnchorAndAddsNoGradient() {
        var (s, population) = Self.started(decoderShare: 0.25, focusShare: 0.75, focusNeurons: 1, center: true)
        #expect(s.decoderRows == 2 && s.focusRows == 5, "rows 1…5 focused, 6…7 decoded, 0 the center")
        s.activateFocus(weights: [1, 1, 1, 1], geneNeurons: (0..<Self.n).map { Int32($0 / 3) })
        s.activateDecoder(stepSizes: [Float](repeating: 0.2, count: Self.m))
        Self.step(&s, &population, decoder: [Double](repeating: 0.05, count: Self.n * Self.m))
        Self.step(&s, &population, decoder: [Double](repeating: 0.05, count: Self.n * Self.m))
        #expect(Array(population.row(0)) == s.mean)
        #expect(
            (0..<Self.lambda).map { s.candidateKind(row: $0) } == [
                "center", "focus", "focus", "focus", "focus", "focus", "decoded", "decoded",
            ])
        let (n, k) = (Self.n, Self.k)
        let before = s
        let order = population.ranking()
        var gradSigma = [Double](repeating: 0, count: n)
        var gradTau = [Double](repeating: 0, count: k)
        var steps = [Double](repeating: 0, count: n)
        for (rank, r) in order.enumerated() where r != 0 {
            let u = Double(before.utilities[rank])
            let chosen = Int(before.focusChosen[r])
            for j in 0..<n {
                var latentPart = 0.0
                for i in 0..<k {
                    latentPart +=
                        Double(before.basis[i * n + j]) * Double(before.tau[i])
                        * Double(before.latentNormals[r * k + i])
                }
                let residual = r >= 6 ? Double(before.residuals[r * n + j]) : 0
                let x = Double(population.genes[r * n + j])
                let mu = Double(before.mean[j])
                let sNormal = (x - mu - latentPart - residual) / Double(before.sigma[j])
                if r >= 6 || j / 3 == chosen { gradSigma[j] += u * (sNormal * sNormal - 1) }
                steps[j] += u * (x - mu)
            }
            for i in 0..<k {
                let z = Double(before.latentNormals[r * k + i])
                gradTau[i] += u * (z * z - 1)
            }
        }
        s.tell(population)
        for j in 0..<n {
            #expect(
                abs(Double(s.mean[j] - before.mean[j]) - Double(before.learningRateMean) * steps[j]) < 1e-5, "μ[\(j)]")
            let sigma = Double(before.sigma[j]) * exp(0.5 * Double(before.learningRateSigma) * gradSigma[j])
            #expect(abs(Double(s.sigma[j]) - sigma) < 1e-5 * sigma, "σ[\(j)]")
        }
        for i in 0..<k {
            let tau = Double(before.tau[i]) * exp(0.5 * Double(before.learningRateTau) * gradTau[i])
            #expect(abs(Double(s.tau[i]) - tau) < 1e-5 * tau, "τ[\(i)]")
        }
    }
}
