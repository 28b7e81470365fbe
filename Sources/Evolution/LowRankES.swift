import CBLAS
import Foundation
import Kernels

/// An evolution strategy whose samples differ from the mean by a low-rank change to every weight
/// matrix (EGGROLL: B. Sarkar et al., *Evolution Strategies at the Hyperscale*, arXiv 2511.16652,
/// 2025), so that a population of networks of millions of weights is stored as a few thousand
/// numbers per member plus one mean.
///
/// The genome is cut into blocks (`LowRankBlock`): an `m × n` weight matrix, or a vector (a bias)
/// of `m` genes. A member's *code* holds, per matrix block, `A` (`m × r`) and `Bᵀ` (`r × n`), and
/// per vector block a vector `ε` of `m` values, all drawn `N(0, 1)`. It decodes to
///
///   `x = μ + σ E`,  `E_block = A Bᵀ / √r` (matrix) or `ε` (vector),
///
/// so every entry of `E` has mean 0 and variance 1, as in an isotropic Gaussian ES, and a code is
/// `Σ r (m + n) + Σ m` numbers instead of `Σ m n + Σ m`. Rows come in mirrored pairs: row `2j + 1`
/// is row `2j` with `A` and `ε` negated (`E` → `−E`).
///
/// Ranked best first with SNES's utilities `uₖ` (they sum to zero),
///
///   `μ ← μ + η_μ σ Σₖ uₖ Eₖ`,
///
/// the sum of `λ` rank-`r` matrices being one GEMM `[m × λr] · [λr × n]` per matrix block. σ is
/// fixed (`sigma0`), as in EGGROLL and OpenAI-ES: at `D` in the millions a per-gene σ would cost
/// another `D` floats (a scalar step-size rule is not tried).
///
/// With an `optimizer` (`MeanOptimizer`: Adam, ClipUp, …) the mean moves by the optimizer's step
/// on `σ Σₖ uₖ Eₖ`; with a `shaping` its weights replace SNES's utilities.
///
/// Immigrants are full genomes (`receive`): they join the next ranking as extra candidates, their
/// step `(x − μ)/σ` clipped to `E‖N(0, I_D)‖` (Hansen 2011 on injected solutions), with the
/// utilities of `λ + m` candidates.
public struct LowRankES: DecodingIslandAlgorithm, Equatable {
    /// Genes of the genome, `D`.
    public let genomeDimension: Int
    /// Numbers per code, `Σ r (m + n) + Σ m`.
    public let codeDimension: Int
    public let populationSize: Int
    public let rank: Int
    public let blocks: [LowRankBlock]
    /// σ, the same for every gene and generation.
    public let sigma: Float
    public let learningRateMean: Float
    /// `μ`, `[D]`, the island's anchor: every code decodes relative to it.
    @Packed public private(set) var mean: [Float]
    /// Immigrants waiting for the next `tell`: `[m × D]` genomes and their fitness.
    @Packed var immigrantGenes: [Float] = []
    var immigrantFitness: [Float] = []
    /// Whether the population holds the codes of an `ask` (false before the first).
    public private(set) var hasSamples = false
    /// How fitness becomes the weights `uₖ` (`nil`: SNES's utilities).
    public let shaping: FitnessShaping?
    /// What moves the mean along `σ Σₖ uₖ Eₖ` (`nil`: the plain step with `η_μ`).
    public private(set) var optimizer: MeanOptimizer?

    /// - Parameters:
    ///   - blocks: the genome's blocks, in order, covering `0 ..< mean.count` without gaps.
    ///   - mean: the first mean (the best network of generation 0).
    public init(
        mean: [Float], blocks: [LowRankBlock], rank: Int, stepSize: Float, populationSize: Int,
        learningRateMean: Float? = nil,
        shaping: FitnessShaping? = nil, optimizer: MeanOptimizer? = nil
    ) {
        precondition(rank >= 1, "the rank must be at least 1")
        precondition(stepSize > 0, "the step size must be positive")
        precondition(populationSize >= 2, "the population must have at least 2 members")
        var next = 0
        for block in blocks {
            precondition(
                block.offset == next && block.rows > 0 && block.columns > 0, "blocks must cover the genome in order")
            next += block.geneCount
        }
        precondition(next == mean.count && next > 0, "blocks cover \(next) genes, the mean has \(mean.count)")
        genomeDimension = mean.count
        codeDimension = blocks.reduce(0) { $0 + $1.codeCount(rank: rank) }
        self.populationSize = populationSize
        self.rank = rank
        self.blocks = blocks
        sigma = stepSize
        self.learningRateMean = learningRateMean ?? 1
        self.mean = mean
        self.shaping = shaping
        self.optimizer = optimizer
    }

    public var needsScratch: Bool { false }

    /// `tell` with the codes' fitness (after the first generation), then `ask` for new codes.
    public mutating func nextGeneration(_ population: inout Population, scratch: inout Population, key: StreamKey)
        -> Range<Int>
    {
        if hasSamples { tell(population) }
        ask(into: &population, key: key)
        hasSamples = true
        return 0..<populationSize
    }

    /// Draws `λ` codes: pair `j` (rows `2j`, `2j + 1`) from `key.stream(.sampling, individual: j)`,
    /// the second of the pair mirrored.
    public mutating func ask(into population: inout Population, key: StreamKey) {
        if population.dimension != codeDimension {
            population = Population(count: populationSize, dimension: codeDimension)
        } else if population.count != populationSize {
            population.resize(count: populationSize)
        }
        let c = codeDimension
        let r = rank
        let pairs = (populationSize + 1) / 2
        population.genes.withUnsafeMutableBufferPointer { codes in
            let base = codes.baseAddress!
            forEachRow(pairs, genesPerRow: 2 * c) { j in
                var random = key.stream(.sampling, individual: j)
                let first = base + 2 * j * c
                random.fillGaussian(UnsafeMutableBufferPointer(start: first, count: c))
                guard 2 * j + 1 < populationSize else { return }
                let mirror = first + c
                mirror.update(from: first, count: c)
                var at = 0
                for block in blocks {
                    // A (or ε) changes sign; Bᵀ stays.
                    let negated = block.isMatrix ? block.rows * r : block.geneCount
                    for i in at..<at + negated { mirror[i] = -mirror[i] }
                    at += block.codeCount(rank: r)
                }
            }
        }
        population.markAsked(key: key, stepSize: sigma)
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
                    addStep(code: codes.baseAddress! + row * c, scale: sigma, to: genome)
                }
            }
        }
    }

    /// `target += scale · E(code)`.
    func addStep(code: UnsafePointer<Float>, scale: Float, to target: UnsafeMutablePointer<Float>) {
        let r = rank
        let matrixScale = scale / Float(r).squareRoot()
        var at = 0
        for block in blocks {
            let out = target + block.offset
            if block.isMatrix {
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
                for i in 0..<block.geneCount { out[i] += scale * code[at + i] }
            }
            at += block.codeCount(rank: r)
        }
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

    /// `μ ← μ + η_μ σ Σₖ uₖ Eₖ` over the codes of the last `ask` and the pending immigrants.
    public mutating func tell(_ evaluated: Population) {
        precondition(
            evaluated.count == populationSize && evaluated.dimension == codeDimension,
            "tell needs the \(populationSize) codes of the last ask")
        let m = immigrantFitness.count
        let fitness = evaluated.fitness + immigrantFitness
        var weight = [Float](repeating: 0, count: fitness.count)
        if let shaping {
            weight = shaping.weights(fitness)
        } else {
            let utilities = SNES.utilities(populationSize: fitness.count)
            for (position, k) in Population.ranking(fitness).enumerated() { weight[k] = utilities[position] }
        }
        // With an optimizer the sum is its gradient, `σ Σₖ uₖ Eₖ` (η_μ = 1), gathered in `gradient`.
        let scale = (optimizer == nil ? learningRateMean : 1) * sigma
        let (c, d, r) = (codeDimension, genomeDimension, rank)
        let lambda = populationSize
        // The immigrants' part, Σᵢ uᵢ clip((xᵢ − μ)/σ), against the mean their fitness was ranked with.
        var pull = [Float](repeating: 0, count: m > 0 ? d : 0)
        if m > 0 {
            let limit = expectedGaussianNorm(d)
            var step = [Float](repeating: 0, count: d)
            for i in 0..<m {
                for j in 0..<d { step[j] = (immigrantGenes[i * d + j] - mean[j]) / sigma }
                clipNorm(&step, limit: limit)
                for j in 0..<d { pull[j] += weight[lambda + i] * step[j] }
            }
        }
        var gradient = [Float](repeating: 0, count: optimizer == nil ? 0 : d)
        let blocks = self.blocks
        func accumulate(into target: UnsafeMutablePointer<Float>) {
            evaluated.genes.withUnsafeBufferPointer { codesBuffer in
                let codes = codesBuffer.baseAddress!
                var at = 0
                for block in blocks {
                    let out = target + block.offset
                    if block.isMatrix {
                        // Σₖ uₖ Aₖ Bₖᵀ / √r = [u₁A₁ … u_λA_λ] · [B₁ᵀ; …; B_λᵀ] / √r.
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
                    at += block.codeCount(rank: r)
                }
            }
        }
        if optimizer == nil {
            _mean.wrappedValue.withUnsafeMutableBufferPointer { accumulate(into: $0.baseAddress!) }
            if m > 0 { for j in 0..<d { mean[j] += scale * pull[j] } }
        } else {
            gradient.withUnsafeMutableBufferPointer { accumulate(into: $0.baseAddress!) }
            if m > 0 { for j in 0..<d { gradient[j] += scale * pull[j] } }
            optimizer!.step(&gradient, mean: &_mean.wrappedValue)
        }
        guard m > 0 else { return }
        immigrantGenes = []
        immigrantFitness = []
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
