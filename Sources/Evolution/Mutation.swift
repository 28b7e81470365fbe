import Foundation
import Kernels

/// A mutation: what happens to a gene (`kind`) and which genes it happens to (`genes`).
public struct Mutation: Codable, Equatable, Sendable {
    /// What a mutated gene `x` becomes.
    public enum Kind: Codable, Equatable, Sendable {
        /// `x + σ N(0, 1)`.
        case gaussian(sigma: Float)
        /// `x + U(low, high)` (PyGAD's `random` mutation, `mutation_by_replacement=False`).
        case uniformShift(low: Float, high: Float)
        /// `U(low, high)` (PyGAD's `random` mutation, `mutation_by_replacement=True`).
        case randomReplacement(low: Float, high: Float)
        /// Self-adaptive Gaussian mutation with one step size per individual (Schwefel 1995;
        /// Beyer & Schwefel 2002): the child first takes its parent's step size
        /// `σ' = σ · exp(τ N(0, 1))` (`σ = initialSigma` while the parent has none, `τ` defaults to
        /// `1/√D`), then `x + σ' N(0, 1)`. The child carries `σ'` in `Population.stepSizes`.
        case selfAdaptive(initialSigma: Float, learningRate: Float?)
    }

    /// Which genes of a child are mutated.
    public enum Genes: Codable, Equatable, Sendable {
        /// Each gene independently with probability `rate`.
        case rate(Double)
        /// Exactly `count` distinct genes, uniformly.
        case count(Int)
        /// PyGAD's adaptive mutation with rates: a child whose parent is less fit than the parents'
        /// mean uses `belowMean` (the higher rate), the others `aboveMean`.
        case adaptiveRate(aboveMean: Double, belowMean: Double)
        /// PyGAD's adaptive mutation with gene counts, as `adaptiveRate`.
        case adaptiveCount(aboveMean: Int, belowMean: Int)
    }

    public var kind: Kind
    public var genes: Genes

    public init(kind: Kind, genes: Genes) {
        self.kind = kind
        self.genes = genes
    }

    /// Mutates one child in place.
    ///
    /// Genes chosen by rate are visited by geometric skips: the gap to the next mutated gene is
    /// `⌊ln U / ln(1 − p)⌋` with `U` uniform in `(0, 1]`, which has exactly the distribution of the
    /// run of untouched genes in independent Bernoulli(`p`) trials, so a rate of 1e-4 on 300,000
    /// genes costs about 30 draws, not 300,000. Counts use Floyd's sampling without replacement.
    ///
    /// Adaptive mutation differs from PyGAD in one respect: PyGAD evaluates every offspring before
    /// mutating it to compare it with the mean; here the child's first parent is compared with the
    /// parents' mean, which costs no fitness evaluation.
    /// - Parameters:
    ///   - row: the child's `D` genes.
    ///   - stepSize: the child's σ (inherited from its parent); updated by `.selfAdaptive`.
    ///   - belowMean: whether the child's parent is less fit than the parents' mean (adaptive only).
    ///   - random: the child's mutation stream.
    public func apply(to row: UnsafeMutableBufferPointer<Float>, stepSize: inout Float, belowMean: Bool, random: inout RandomStream) {
        let d = row.count
        switch kind {
        case .gaussian(let sigma):
            forEachMutatedGene(d, belowMean: belowMean, random: &random) { j, random in
                row[j] += sigma * Float(random.gaussian())
            }
        case .uniformShift(let low, let high):
            forEachMutatedGene(d, belowMean: belowMean, random: &random) { j, random in
                row[j] += low + (high - low) * random.uniformFloat()
            }
        case .randomReplacement(let low, let high):
            forEachMutatedGene(d, belowMean: belowMean, random: &random) { j, random in
                row[j] = low + (high - low) * random.uniformFloat()
            }
        case .selfAdaptive(let initialSigma, let learningRate):
            let tau = Double(learningRate ?? 1 / Float(d).squareRoot())
            let parentSigma = stepSize > 0 ? stepSize : initialSigma
            let sigma = Float(Double(parentSigma) * exp(tau * random.gaussian()))
            stepSize = sigma
            forEachMutatedGene(d, belowMean: belowMean, random: &random) { j, random in
                row[j] += sigma * Float(random.gaussian())
            }
        }
    }

    /// Calls `body` with the index of each mutated gene, in increasing order for rates and in
    /// Floyd's (deterministic) order for counts.
    func forEachMutatedGene(_ d: Int, belowMean: Bool, random: inout RandomStream, _ body: (Int, inout RandomStream) -> Void) {
        switch genes {
        case .rate(let p):
            Self.bernoulliGenes(d, rate: p, random: &random, body)
        case .count(let n):
            Self.distinctGenes(d, count: n, random: &random, body)
        case .adaptiveRate(let aboveMean, let belowMeanRate):
            Self.bernoulliGenes(d, rate: belowMean ? belowMeanRate : aboveMean, random: &random, body)
        case .adaptiveCount(let aboveMean, let belowMeanCount):
            Self.distinctGenes(d, count: belowMean ? belowMeanCount : aboveMean, random: &random, body)
        }
    }

    static func bernoulliGenes(_ d: Int, rate p: Double, random: inout RandomStream, _ body: (Int, inout RandomStream) -> Void) {
        if p <= 0 { return }
        if p >= 1 {
            for j in 0 ..< d { body(j, &random) }
            return
        }
        let logMiss = PortableMath.log(1 - p)
        var j = -1
        while true {
            let skip = PortableMath.log(1 - random.uniform()) / logMiss
            if skip >= Double(d - 1 - j) { return }
            j += Int(skip) + 1
            body(j, &random)
        }
    }

    /// Floyd's algorithm: `n` distinct indices of `0..<d`, each subset equally likely.
    static func distinctGenes(_ d: Int, count n: Int, random: inout RandomStream, _ body: (Int, inout RandomStream) -> Void) {
        let n = min(max(n, 0), d)
        var chosen = Set<Int>(minimumCapacity: n)
        var order: [Int] = []
        order.reserveCapacity(n)
        for top in (d - n) ..< d {
            let candidate = random.below(top + 1)
            let pick = chosen.contains(candidate) ? top : candidate
            chosen.insert(pick)
            order.append(pick)
        }
        for j in order { body(j, &random) }
    }
}
