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
    /// genes costs about 30 draws, not 300,000. Counts use Floyd's sampling without replacement,
    /// applied in increasing gene order.
    ///
    /// Adaptive mutation differs from PyGAD in one respect: PyGAD evaluates every offspring before
    /// mutating it to compare it with the mean; here the child's first parent is compared with the
    /// parents' mean, which costs no fitness evaluation.
    /// - Parameters:
    ///   - row: the child's `D` genes.
    ///   - stepSize: the child's σ (inherited from its parent); updated by `.selfAdaptive`.
    ///   - belowMean: whether the child's parent is less fit than the parents' mean (adaptive only).
    ///   - random: the child's mutation stream.
    public func apply(
        to row: UnsafeMutableBufferPointer<Float>, stepSize: inout Float, belowMean: Bool, random: inout RandomStream
    ) {
        var sites = begin(dimension: row.count, stepSize: &stepSize, belowMean: belowMean, random: &random)
        apply(to: row.baseAddress!, upTo: row.count, sites: &sites, random: &random)
    }

    /// The mutated genes of one child, produced in increasing order as the child is written.
    struct Sites {
        /// `ln(1 − p)` for independent Bernoulli(`p`) trials, 0 for every gene; unused with a list.
        let logMiss: Double
        /// The mutated genes, sorted, when they were drawn as a count; empty otherwise.
        let listed: [Int]
        let usesList: Bool
        let dimension: Int
        /// Step size of this child's Gaussian changes (the kind's σ, or the self-adapted σ').
        let sigma: Float
        /// The next gene to mutate (`dimension` when there is none).
        var next: Int
        var listIndex = 0

        /// Moves `next` past the gene just mutated.
        mutating func advance(random: inout RandomStream) {
            if usesList {
                listIndex += 1
                next = listIndex < listed.count ? listed[listIndex] : dimension
            } else if logMiss == 0 {
                next += 1
            } else {
                let skip = PortableMath.log(1 - random.uniform()) / logMiss
                next = skip >= Double(dimension - 1 - next) ? dimension : next + Int(skip) + 1
            }
        }
    }

    /// Draws a child's step size (self-adaptive) and the first of its mutated genes.
    func begin(dimension d: Int, stepSize: inout Float, belowMean: Bool, random: inout RandomStream) -> Sites {
        var sigma: Float = 0
        switch kind {
        case .gaussian(let s):
            sigma = s
        case .selfAdaptive(let initialSigma, let learningRate):
            let tau = Double(learningRate ?? 1 / Float(d).squareRoot())
            let parentSigma = stepSize > 0 ? stepSize : initialSigma
            sigma = Float(Double(parentSigma) * exp(tau * random.gaussian()))
            stepSize = sigma
        case .uniformShift, .randomReplacement:
            break
        }
        let rate: Double?
        let count: Int?
        switch genes {
        case .rate(let p): (rate, count) = (p, nil)
        case .count(let n): (rate, count) = (nil, n)
        case .adaptiveRate(let aboveMean, let belowMeanRate):
            (rate, count) = (belowMean ? belowMeanRate : aboveMean, nil)
        case .adaptiveCount(let aboveMean, let belowMeanCount):
            (rate, count) = (nil, belowMean ? belowMeanCount : aboveMean)
        }
        if let count {
            let genes = Self.distinctGenes(d, count: count, random: &random).sorted()
            return Sites(logMiss: 0, listed: genes, usesList: true, dimension: d, sigma: sigma, next: genes.first ?? d)
        }
        let p = rate!
        if p <= 0 { return Sites(logMiss: 0, listed: [], usesList: true, dimension: d, sigma: sigma, next: d) }
        if p >= 1 { return Sites(logMiss: 0, listed: [], usesList: false, dimension: d, sigma: sigma, next: 0) }
        var sites = Sites(
            logMiss: PortableMath.log(1 - p), listed: [], usesList: false, dimension: d, sigma: sigma, next: -1)
        sites.advance(random: &random)
        return sites
    }

    /// Mutates the genes of `sites` below `end`, in increasing order.
    func apply(to row: UnsafeMutablePointer<Float>, upTo end: Int, sites: inout Sites, random: inout RandomStream) {
        switch kind {
        case .gaussian, .selfAdaptive:
            let sigma = sites.sigma
            while sites.next < end {
                row[sites.next] += sigma * Float(random.gaussian())
                sites.advance(random: &random)
            }
        case .uniformShift(let low, let high):
            while sites.next < end {
                row[sites.next] += low + (high - low) * random.uniformFloat()
                sites.advance(random: &random)
            }
        case .randomReplacement(let low, let high):
            while sites.next < end {
                row[sites.next] = low + (high - low) * random.uniformFloat()
                sites.advance(random: &random)
            }
        }
    }

    /// Floyd's algorithm: `n` distinct indices of `0..<d`, each subset equally likely.
    static func distinctGenes(_ d: Int, count n: Int, random: inout RandomStream) -> [Int] {
        let n = min(max(n, 0), d)
        var chosen = Set<Int>(minimumCapacity: n)
        var order: [Int] = []
        order.reserveCapacity(n)
        for top in (d - n)..<d {
            let candidate = random.below(top + 1)
            let pick = chosen.contains(candidate) ? top : candidate
            chosen.insert(pick)
            order.append(pick)
        }
        return order
    }
}
