import CBLAS
import Foundation
import Kernels

/// An evolution strategy whose samples differ from the mean by a low-rank change to every weight
/// matrix (EGGROLL: B. Sarkar et al., *Evolution Strategies at the Hyperscale*, arXiv 2511.16652,
/// 2025), so that a population of networks of millions of weights is stored as a few thousand
/// numbers per member plus one mean.
///
/// The genome is cut into blocks (`LowRankBlock`): an `m × n` weight matrix, or a vector (a bias)
/// of `m` genes. A member's *code* holds, per matrix block, `A` (`m × r'`) and `Bᵀ` (`r' × n`), and
/// per vector block a vector `ε` of `m` values. It decodes to
///
///   `x_b = μ_b + σ_b E_b`,  `E_b = A Bᵀ / √r'` (matrix) or `ε` (vector),
///
/// with one step size `σ_b` per block. Without guidance (`guidedRank` q = 0) `r' = r` and every
/// code entry is drawn `N(0, 1)`, so every entry of `E` has mean 0 and variance 1, as in an
/// isotropic Gaussian ES, and a code is `Σ r (m + n) + Σ m` numbers instead of `Σ m n + Σ m`.
/// Rows come in mirrored pairs: row `2j + 1` is row `2j` with `A` and `ε` negated (`E` → `−E`).
/// With `center`, row 0 is the mean itself (a code of zeros) and the pairs follow it; it is
/// evaluated (so a run can hand back the mean) but takes no part in the update.
///
/// **Guided members** (q > 0, `TrajectoryBasis`): a share `α` (`guidedShare`) of each matrix's
/// perturbation lies in the rank-q basis `U_b`, `V_b` the run learns from its own mean steps,
///
///   `E_b = √(1 − α) A Bᵀ / √r + √α · (√(m n) / q) · U_b Z Vᵀ_b`,  `Z ~ N(0, I_{q×q})`,
///
/// so `E‖E_b‖² = m n` still (`‖U Z Vᵀ‖² = ‖Z‖²`); the code keeps it as one rank-`r + q` pair,
/// `A' = [√((1−α) r'/r) A | √(α r') (√(m n)/q) U Z]`, `B' = [B | V]`. A block whose basis is not
/// ready yet (no mean step so far) draws its whole change at random, `A' = [√(r'/r) A | 0]`.
///
/// Ranked with the weights `wₖ` of `shaping` (`nil`: SNES's utilities, which sum to zero),
///
///   `μ_b ← μ_b + η_μ σ_b Σₖ wₖ E_{k,b}`,
///
/// the sum of `λ` rank-`r'` matrices being one GEMM `[m × λr'] · [λr' × n]` per matrix block; with
/// an `optimizer` (`MeanOptimizer`: Adam, ClipUp, …) the mean moves by the optimizer's step on
/// `σ_b Σₖ wₖ E_{k,b}` instead.
///
/// **Step sizes.** With `learningRateSigma` η_σ = 0 every `σ_b` stays at `sigma0` (EGGROLL's fixed
/// σ). With η_σ > 0 each block's σ follows PGPE's baseline-subtracted rule (Sehnke et al. 2010)
/// restricted to one σ per block: averaging `(ε_i² − σ²)/σ` over the block's `d_b` genes,
///
///   `g_b = (1/npairs) Σⱼ (½(wⱼ⁺ + wⱼ⁻) − w̄) σ_b (‖E_{j,b}‖² / d_b − 1)`,
///   `σ_b ← clip(σ_b + η_σ g_b, (1 − c) σ_b, (1 + c) σ_b)`,  `c` = `maxSigmaChange`,
///
/// `w̄` the mean weight of the samples; `‖A'B'ᵀ‖² = Σ_{s,t} (A'ᵀA')_{st} (B'ᵀB')_{st}` costs
/// `r'² (m + n)` per pair, not `m n`.
///
/// Immigrants are full genomes (`receive`): they join the next ranking as extra candidates, their
/// step `(x_b − μ_b)/σ_b` clipped to `E‖N(0, I_D)‖` (Hansen 2011 on injected solutions) over the
/// whole genome, with the weights of `λ + m` candidates; they take no part in the σ rule.
public struct LowRankES: DecodingIslandAlgorithm, Equatable {
    /// Genes of the genome, `D`.
    public let genomeDimension: Int
    /// Numbers per code, `Σ r' (m + n) + Σ m`.
    public let codeDimension: Int
    /// Samples per generation, `λ` (the rows are `λ` + 1 with the center).
    public let populationSize: Int
    /// `r`, the rank of each member's random change per matrix.
    public let rank: Int
    /// `q`, the rank of the guided part (0: no guidance).
    public let guidedRank: Int
    /// `α`, the share of a matrix's perturbation energy drawn in the learned basis.
    public let guidedShare: Float
    public let blocks: [LowRankBlock]
    /// Whether row 0 is the mean itself.
    public let center: Bool
    /// `σ_b`, one per block.
    public internal(set) var sigmas: [Float]
    /// `η_σ` (0: σ fixed).
    public let learningRateSigma: Float
    /// `c`: a block's σ changes by at most this share per generation.
    public let maxSigmaChange: Float
    public let learningRateMean: Float
    /// `μ`, `[D]`, the island's anchor: every code decodes relative to it.
    @Packed public private(set) var mean: [Float]
    /// The learned basis of the guided part (`nil` without guidance).
    public private(set) var basis: TrajectoryBasis?
    /// Immigrants waiting for the next `tell`: `[m × D]` genomes and their fitness.
    @Packed var immigrantGenes: [Float] = []
    var immigrantFitness: [Float] = []
    /// Whether the population holds the codes of an `ask` (false before the first).
    public private(set) var hasSamples = false
    /// How fitness becomes the weights `wₖ` (`nil`: SNES's utilities).
    public let shaping: FitnessShaping?
    /// What moves the mean along `σ Σₖ wₖ Eₖ` (`nil`: the plain step with `η_μ`).
    public private(set) var optimizer: MeanOptimizer?

    /// - Parameters:
    ///   - blocks: the genome's blocks, in order, covering `0 ..< mean.count` without gaps.
    ///   - mean: the first mean (the best network of generation 0).
    ///   - stepSize: every block's first σ.
    public init(
        mean: [Float], blocks: [LowRankBlock], rank: Int, stepSize: Float, populationSize: Int,
        learningRateMean: Float? = nil,
        shaping: FitnessShaping? = nil, optimizer: MeanOptimizer? = nil, center: Bool = false,
        learningRateSigma: Float = 0, maxSigmaChange: Float = 0.2, guidedRank: Int = 0, guidedShare: Float = 0.5
    ) {
        precondition(rank >= 1, "the rank must be at least 1")
        precondition(stepSize > 0, "the step size must be positive")
        precondition(populationSize >= 2, "the population must have at least 2 members")
        precondition(learningRateSigma >= 0 && maxSigmaChange > 0 && maxSigmaChange < 1, "η_σ ≥ 0 and 0 < c < 1")
        precondition(guidedRank >= 0 && guidedShare >= 0 && guidedShare <= 1, "q ≥ 0 and 0 ≤ α ≤ 1")
        var next = 0
        for block in blocks {
            precondition(
                block.offset == next && block.rows > 0 && block.columns > 0, "blocks must cover the genome in order")
            next += block.geneCount
        }
        precondition(next == mean.count && next > 0, "blocks cover \(next) genes, the mean has \(mean.count)")
        genomeDimension = mean.count
        codeDimension = blocks.reduce(0) { $0 + $1.codeCount(rank: rank + guidedRank) }
        self.populationSize = populationSize
        self.rank = rank
        self.guidedRank = guidedRank
        self.guidedShare = guidedShare
        self.blocks = blocks
        self.center = center
        sigmas = [Float](repeating: stepSize, count: blocks.count)
        self.learningRateSigma = learningRateSigma
        self.maxSigmaChange = maxSigmaChange
        self.learningRateMean = learningRateMean ?? 1
        self.mean = mean
        basis = guidedRank > 0 ? TrajectoryBasis(blocks: blocks, rank: guidedRank) : nil
        self.shaping = shaping
        self.optimizer = optimizer
    }

    /// `r'`, the rank of a code's matrix parts: `r + q`.
    public var codeRank: Int { rank + guidedRank }

    /// Rows per generation: `λ`, plus the center.
    public var rowCount: Int { populationSize + (center ? 1 : 0) }

    /// The first sample's row.
    var firstSample: Int { center ? 1 : 0 }

    public var needsScratch: Bool { false }

    public var meanRow: Int? { center ? 0 : nil }

    /// `tell` with the codes' fitness (after the first generation), then `ask` for new codes.
    public mutating func nextGeneration(_ population: inout Population, scratch: inout Population, key: StreamKey)
        -> Range<Int>
    {
        if hasSamples { tell(population) }
        ask(into: &population, key: key)
        hasSamples = true
        return 0..<rowCount
    }

    /// Draws `λ` codes: pair `j` (rows `c + 2j`, `c + 2j + 1`) from
    /// `key.stream(.sampling, individual: j)`, the second of the pair mirrored; with the center,
    /// row 0 is zeros.
    public mutating func ask(into population: inout Population, key: StreamKey) {
        if population.dimension != codeDimension {
            population = Population(count: rowCount, dimension: codeDimension)
        } else if population.count != rowCount {
            population.resize(count: rowCount)
        }
        let c = codeDimension
        let r = codeRank
        let pairs = (populationSize + 1) / 2
        let first = firstSample
        let strategy = self
        // The guided draw's per-matrix numbers, `r (m + n) + q²` at most, one buffer per pair.
        let scratchCount =
            blocks.filter(\.isMatrix).map { rank * ($0.rows + $0.columns) }.max().map {
                $0 + guidedRank * guidedRank
            } ?? 0
        population.genes.withUnsafeMutableBufferPointer { codes in
            let base = codes.baseAddress!
            if center { base.update(repeating: 0, count: c) }
            forEachRow(pairs, genesPerRow: 2 * c) { j in
                var random = key.stream(.sampling, individual: j)
                let row = base + (first + 2 * j) * c
                if let basis = strategy.basis {
                    var scratch = [Float](repeating: 0, count: scratchCount)
                    scratch.withUnsafeMutableBufferPointer {
                        strategy.drawGuided(into: row, basis: basis, scratch: $0.baseAddress!, random: &random)
                    }
                } else {
                    random.fillGaussian(UnsafeMutableBufferPointer(start: row, count: c))
                }
                guard 2 * j + 1 < populationSize else { return }
                let mirror = row + c
                mirror.update(from: row, count: c)
                var at = 0
                for block in strategy.blocks {
                    // A (or ε) changes sign; Bᵀ stays.
                    let negated = block.isMatrix ? block.rows * r : block.geneCount
                    for i in at..<at + negated { mirror[i] = -mirror[i] }
                    at += block.codeCount(rank: r)
                }
            }
        }
        population.markAsked(key: key, stepSize: sigmas.allSatisfy { $0 == sigmas[0] } ? sigmas[0] : meanSigma)
    }

    /// The genes' mean σ, `Σ_b d_b σ_b / D`.
    var meanSigma: Float {
        Float(zip(blocks, sigmas).reduce(0.0) { $0 + Double($1.0.geneCount) * Double($1.1) } / Double(genomeDimension))
    }

    /// One guided code into `code`: per matrix, the random `A` (`m × r`) and `Bᵀ` (`r × n`), then
    /// `Z` (`q × q`), all `N(0, 1)` in that order from `random`, laid out as `A'`, `B'ᵀ`; vectors
    /// as they are. `scratch` holds one matrix's draws at a time (`r (m + n) + q²` floats).
    func drawGuided(
        into code: UnsafeMutablePointer<Float>, basis: TrajectoryBasis, scratch drawn: UnsafeMutablePointer<Float>,
        random: inout RandomStream
    ) {
        let (r, q) = (rank, guidedRank)
        let rr = r + q
        var at = 0
        for (b, block) in blocks.enumerated() {
            guard block.isMatrix else {
                random.fillGaussian(UnsafeMutableBufferPointer(start: code + at, count: block.geneCount))
                at += block.geneCount
                continue
            }
            let (m, n) = (block.rows, block.columns)
            random.fillGaussian(UnsafeMutableBufferPointer(start: drawn, count: r * (m + n) + q * q))
            let ready = basis.isReady[b]
            let randomScale = ((ready ? 1 - guidedShare : 1) * Float(rr) / Float(r)).squareRoot()
            let guidedScale = (guidedShare * Float(rr)).squareRoot() * Float(m * n).squareRoot() / Float(q)
            let a = code + at
            let bt = a + m * rr
            for i in 0..<m {
                for s in 0..<r { a[i * rr + s] = randomScale * drawn[i * r + s] }
            }
            for s in 0..<r {
                for t in 0..<n { bt[s * n + t] = drawn[m * r + s * n + t] }
            }
            if ready {
                let z = drawn + r * (m + n)
                basis.withFactors(block: b, rows: m) { u, v in
                    // A'_g = guidedScale · U Z, B'ᵀ_g = Vᵀ.
                    for i in 0..<m {
                        for t in 0..<q {
                            var sum: Float = 0
                            for s in 0..<q { sum += u[i * q + s] * z[s * q + t] }
                            a[i * rr + r + t] = guidedScale * sum
                        }
                    }
                    for t in 0..<q {
                        for column in 0..<n { bt[(r + t) * n + column] = v[column * q + t] }
                    }
                }
            } else {
                for i in 0..<m { for t in 0..<q { a[i * rr + r + t] = 0 } }
                (bt + r * n).update(repeating: 0, count: q * n)
            }
            at += block.codeCount(rank: rr)
        }
    }

    /// Writes the genomes of `rows` of `population` (codes) into `genomes`, `[rows.count × D]`.
    public func decode(_ population: Population, rows: Range<Int>, into genomes: UnsafeMutableBufferPointer<Float>) {
        precondition(
            population.dimension == codeDimension,
            "the population holds \(population.dimension) numbers per row, codes have \(codeDimension)")
        precondition(genomes.count >= rows.count * genomeDimension, "the genome buffer is too small")
        let c = codeDimension
        let d = genomeDimension
        population.genes.withUnsafeBufferPointer { codes in
            mean.withUnsafeBufferPointer { mu in
                for (slot, row) in rows.enumerated() {
                    let genome = genomes.baseAddress! + slot * d
                    genome.update(from: mu.baseAddress!, count: d)
                    addStep(code: codes.baseAddress! + row * c, scales: sigmas, to: genome)
                }
            }
        }
    }

    /// `target_b += scales_b · E_b(code)` for every block `b`.
    func addStep(code: UnsafePointer<Float>, scales: [Float], to target: UnsafeMutablePointer<Float>) {
        let r = codeRank
        var at = 0
        for (b, block) in blocks.enumerated() {
            let out = target + block.offset
            if block.isMatrix {
                let matrixScale = scales[b] / Float(r).squareRoot()
                let (m, n) = (block.rows, block.columns)
                let a = code + at
                let bt = code + at + m * r
                for row in 0..<m {
                    let line = out + row * n
                    for q in 0..<r {
                        let coefficient = matrixScale * a[row * r + q]
                        let b = bt + q * n
                        for column in 0..<n { line[column] += coefficient * b[column] }
                    }
                }
            } else {
                for i in 0..<block.geneCount { out[i] += scales[b] * code[at + i] }
            }
            at += block.codeCount(rank: r)
        }
    }

    /// `‖E_b(code)‖² / d_b` for every block `b`: `Σ_{s,t} (A'ᵀA')_{st} (B'ᵀB')_{st} / (r' m n)` for a
    /// matrix, `‖ε‖² / m` for a vector.
    func meanSquares(code: UnsafePointer<Float>) -> [Float] {
        let r = codeRank
        var result = [Float](repeating: 0, count: blocks.count)
        var at = 0
        for (b, block) in blocks.enumerated() {
            var sum = 0.0
            if block.isMatrix {
                let (m, n) = (block.rows, block.columns)
                let a = code + at
                let bt = a + m * r
                for s in 0..<r {
                    for t in 0..<r {
                        var left = 0.0
                        var right = 0.0
                        for i in 0..<m { left += Double(a[i * r + s]) * Double(a[i * r + t]) }
                        for j in 0..<n { right += Double(bt[s * n + j]) * Double(bt[t * n + j]) }
                        sum += left * right
                    }
                }
                sum /= Double(r)
            } else {
                for i in 0..<block.geneCount { sum += Double(code[at + i]) * Double(code[at + i]) }
            }
            result[b] = Float(sum / Double(block.geneCount))
            at += block.codeCount(rank: r)
        }
        return result
    }

    /// Full genomes from other islands, with their fitness, to rank with the next `tell`.
    public mutating func receive(immigrants: Population) {
        precondition(
            immigrants.dimension == genomeDimension,
            "immigrants have \(immigrants.dimension) genes, the genome \(genomeDimension)")
        immigrantGenes.append(contentsOf: immigrants.genes)
        immigrantFitness.append(contentsOf: immigrants.fitness)
    }

    /// Immigrants received since the last `tell`.
    public var pendingImmigrants: Int { immigrantFitness.count }

    /// `μ_b ← μ_b + η_μ σ_b Σₖ wₖ E_{k,b}` over the codes of the last `ask` (not the center) and the
    /// pending immigrants; then the σ rule and the basis's step.
    public mutating func tell(_ evaluated: Population) {
        precondition(
            evaluated.count == rowCount && evaluated.dimension == codeDimension,
            "tell needs the \(rowCount) codes of the last ask")
        let m = immigrantFitness.count
        let first = firstSample
        let fitness = Array(evaluated.fitness[first...]) + immigrantFitness
        var weight = [Float](repeating: 0, count: fitness.count)
        if let shaping {
            weight = shaping.weights(fitness)
        } else {
            let utilities = SNES.utilities(populationSize: fitness.count)
            for (position, k) in Population.ranking(fitness).enumerated() { weight[k] = utilities[position] }
        }
        let before = basis == nil ? [] : mean
        let sigmaGradient = learningRateSigma > 0 ? sigmaGradient(evaluated, weight: weight) : []
        // With an optimizer the sum is its gradient, `σ Σₖ wₖ Eₖ` (η_μ = 1), gathered in `gradient`.
        let rate = optimizer == nil ? learningRateMean : 1
        let (c, d, r) = (codeDimension, genomeDimension, codeRank)
        let lambda = populationSize
        // The immigrants' part, Σᵢ wᵢ clip((xᵢ − μ)/σ), against the mean their fitness was ranked with.
        var pull = [Float](repeating: 0, count: m > 0 ? d : 0)
        if m > 0 {
            let limit = expectedGaussianNorm(d)
            var step = [Float](repeating: 0, count: d)
            for i in 0..<m {
                for (b, block) in blocks.enumerated() {
                    for j in block.offset..<block.offset + block.geneCount {
                        step[j] = (immigrantGenes[i * d + j] - mean[j]) / sigmas[b]
                    }
                }
                clipNorm(&step, limit: limit)
                for j in 0..<d { pull[j] += weight[lambda + i] * step[j] }
            }
        }
        var gradient = [Float](repeating: 0, count: optimizer == nil ? 0 : d)
        let blocks = self.blocks
        let sigmas = self.sigmas
        func accumulate(into target: UnsafeMutablePointer<Float>) {
            evaluated.genes.withUnsafeBufferPointer { codesBuffer in
                let codes = codesBuffer.baseAddress! + first * c
                var at = 0
                for (b, block) in blocks.enumerated() {
                    let out = target + block.offset
                    let scale = rate * sigmas[b]
                    if block.isMatrix {
                        // Σₖ wₖ Aₖ Bₖᵀ / √r' = [w₁A₁ … w_λA_λ] · [B₁ᵀ; …; B_λᵀ] / √r'.
                        let (rows, columns) = (block.rows, block.columns)
                        var left = [Float](repeating: 0, count: rows * lambda * r)
                        var right = [Float](repeating: 0, count: lambda * r * columns)
                        for k in 0..<lambda {
                            let a = codes + k * c + at
                            let bt = a + rows * r
                            for row in 0..<rows {
                                for q in 0..<r { left[row * lambda * r + k * r + q] = weight[k] * a[row * r + q] }
                            }
                            right.withUnsafeMutableBufferPointer {
                                ($0.baseAddress! + k * r * columns).update(from: bt, count: r * columns)
                            }
                        }
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(columns), Int32(lambda * r),
                            scale / Float(r).squareRoot(), left, Int32(lambda * r), right, Int32(columns), 1, out,
                            Int32(columns))
                    } else {
                        for k in 0..<lambda {
                            let e = codes + k * c + at
                            for i in 0..<block.geneCount { out[i] += scale * weight[k] * e[i] }
                        }
                    }
                    if m > 0 {
                        for j in 0..<block.geneCount { out[j] += scale * pull[block.offset + j] }
                    }
                    at += block.codeCount(rank: r)
                }
            }
        }
        if optimizer == nil {
            _mean.wrappedValue.withUnsafeMutableBufferPointer { accumulate(into: $0.baseAddress!) }
        } else {
            gradient.withUnsafeMutableBufferPointer { accumulate(into: $0.baseAddress!) }
            optimizer!.step(&gradient, mean: &_mean.wrappedValue)
        }
        if !sigmaGradient.isEmpty {
            for b in blocks.indices {
                let s = self.sigmas[b]
                let proposed = s + learningRateSigma * sigmaGradient[b]
                self.sigmas[b] = min(max(proposed, (1 - maxSigmaChange) * s), (1 + maxSigmaChange) * s)
            }
        }
        if basis != nil {
            var step = mean
            for j in 0..<d { step[j] -= before[j] }
            basis!.update(step: step, blocks: blocks)
        }
        guard m > 0 else { return }
        immigrantGenes = []
        immigrantFitness = []
    }

    /// `g_b = (1/npairs) Σⱼ (½(wⱼ⁺ + wⱼ⁻) − w̄) σ_b (‖E_{j,b}‖² / d_b − 1)` over the sample pairs
    /// (an unpaired last sample counts as a pair of one); `weight` holds the samples' first.
    func sigmaGradient(_ evaluated: Population, weight: [Float]) -> [Float] {
        let lambda = populationSize
        let pairs = (lambda + 1) / 2
        let average = weight[0..<lambda].reduce(0, +) / Float(lambda)
        var gradient = [Double](repeating: 0, count: blocks.count)
        evaluated.genes.withUnsafeBufferPointer { codes in
            for j in 0..<pairs {
                let plus = 2 * j
                let pairWeight = plus + 1 < lambda ? (weight[plus] + weight[plus + 1]) / 2 : weight[plus]
                let squares = meanSquares(code: codes.baseAddress! + (firstSample + plus) * codeDimension)
                for b in blocks.indices {
                    gradient[b] += Double(pairWeight - average) * Double(sigmas[b]) * Double(squares[b] - 1)
                }
            }
        }
        return gradient.map { Float($0 / Double(pairs)) }
    }
}

/// A run of genes that `LowRankES` perturbs as one: an `rows × columns` row-major weight matrix
/// (`A Bᵀ` of rank r), or a vector of `rows` genes (`columns` = 1, perturbed in full).
public struct LowRankBlock: Codable, Equatable, Sendable {
    /// First gene of the block in the genome.
    public let offset: Int
    public let rows: Int
    public let columns: Int
    public let isMatrix: Bool

    public init(offset: Int, rows: Int, columns: Int, isMatrix: Bool) {
        self.offset = offset
        self.rows = rows
        self.columns = columns
        self.isMatrix = isMatrix
    }

    public var geneCount: Int { rows * columns }

    /// Numbers of a code for this block: `r (rows + columns)` for a matrix, the genes themselves
    /// for a vector.
    public func codeCount(rank: Int) -> Int { isMatrix ? rank * (rows + columns) : rows * columns }
}
