import Kernels

/// `P` individuals of `D` genes in one contiguous row-major `[P × D]` buffer, with a fitness, a
/// stable id and a mutation step size per individual.
///
/// Higher fitness is better everywhere in `Evolution`; minimisation problems negate their
/// objective. An individual not yet evaluated has fitness `Population.unevaluated` (−∞), and any
/// non-finite fitness (NaN, ±∞: a failed or overflowing evaluation) ranks below every number.
/// Operators write children into a preallocated population, so a generation allocates nothing per
/// individual.
///
/// Ids are unique across islands and generations without any shared counter:
/// `individualID(island:generation:index:)` packs island (16 bits), generation (32 bits) and
/// index within the generation (16 bits). An individual keeps its id when it survives, is kept as
/// an elite or migrates.
public struct Population: Codable, Equatable, Sendable {
    /// Genes per individual, `D`.
    public let dimension: Int
    /// Number of individuals, `P`.
    public private(set) var count: Int
    /// `[P × D]`, row `i` is individual `i`.
    public var genes: [Float]
    /// `[P]`, higher is better; `unevaluated` until scored.
    public var fitness: [Float]
    /// `[P]`, stable individual ids.
    public var ids: [UInt64]
    /// `[P]`, the self-adaptive mutation step size σ each individual carries (0 until a
    /// self-adaptive mutation sets it; other operators copy it along unchanged).
    public var stepSizes: [Float]

    /// The fitness of an individual that has not been evaluated.
    public static let unevaluated = -Float.infinity

    /// `count` individuals of zeros, unevaluated, with ids of generation 0 of island 0.
    public init(count: Int, dimension: Int) {
        precondition(count >= 0 && dimension > 0, "a population needs count ≥ 0 and dimension > 0")
        self.dimension = dimension
        self.count = count
        genes = [Float](repeating: 0, count: count * dimension)
        fitness = [Float](repeating: Self.unevaluated, count: count)
        ids = (0..<count).map { Self.individualID(island: 0, generation: 0, index: $0) }
        stepSizes = [Float](repeating: 0, count: count)
    }

    /// A first population with genes uniform in `[low, high)`, drawn from the `initialization`
    /// stream of `key`; ids are those of `key`'s island and generation.
    public static func uniform(count: Int, dimension: Int, low: Float, high: Float, key: StreamKey) -> Population {
        precondition(high > low, "uniform initialisation needs high > low")
        var population = Population(count: count, dimension: dimension)
        var random = key.stream(.initialization)
        population.genes.withUnsafeMutableBufferPointer { random.fillUniform($0, low: low, high: high) }
        population.assignIDs(key: key)
        return population
    }

    /// A first population with genes `mean[j] + spread · N(0, 1)`, drawn from the `initialization`
    /// stream of `key`.
    public static func gaussian(count: Int, mean: [Float], spread: Float, key: StreamKey) -> Population {
        let d = mean.count
        var population = Population(count: count, dimension: d)
        var random = key.stream(.initialization)
        population.genes.withUnsafeMutableBufferPointer { genes in
            for i in 0..<count {
                for j in 0..<d { genes[i * d + j] = mean[j] + spread * Float(random.gaussian()) }
            }
        }
        population.assignIDs(key: key)
        return population
    }

    /// `island` (16 bits) · `generation` (32 bits) · `index` (16 bits), packed high to low.
    public static func individualID(island: Int, generation: Int, index: Int) -> UInt64 {
        precondition(
            (0..<1 << 16).contains(island) && (0..<1 << 16).contains(index), "island and index must fit in 16 bits")
        return UInt64(island) << 48 | UInt64(UInt32(truncatingIfNeeded: generation)) << 16 | UInt64(index)
    }

    /// Gives row `i` the id `individualID(key.island, key.generation, i)`.
    public mutating func assignIDs(key: StreamKey) {
        for i in 0..<count { ids[i] = Self.individualID(island: key.island, generation: key.generation, index: i) }
    }

    /// Marks every row as a fresh candidate of the ask with `key`: unevaluated, with step size
    /// `stepSize` and the ids of `key`.
    public mutating func markAsked(key: StreamKey, stepSize: Float) {
        for i in 0..<count {
            fitness[i] = Self.unevaluated
            stepSizes[i] = stepSize
        }
        assignIDs(key: key)
    }

    /// Changes the number of rows, keeping the first `min(count, newCount)`; new rows are zeros,
    /// unevaluated.
    public mutating func resize(count newCount: Int) {
        precondition(newCount >= 0, "count must not be negative")
        if newCount < count {
            genes.removeLast((count - newCount) * dimension)
            fitness.removeLast(count - newCount)
            ids.removeLast(count - newCount)
            stepSizes.removeLast(count - newCount)
        } else {
            genes.append(contentsOf: repeatElement(0, count: (newCount - count) * dimension))
            fitness.append(contentsOf: repeatElement(Self.unevaluated, count: newCount - count))
            ids.append(contentsOf: (count..<newCount).map { Self.individualID(island: 0, generation: 0, index: $0) })
            stepSizes.append(contentsOf: repeatElement(0, count: newCount - count))
        }
        count = newCount
    }

    /// Row `i` (a copy-on-write slice of `genes`).
    public func row(_ i: Int) -> ArraySlice<Float> {
        genes[i * dimension..<(i + 1) * dimension]
    }

    /// Runs `body` on row `i` in place.
    public mutating func withRow<R>(_ i: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let d = dimension
        return try genes.withUnsafeMutableBufferPointer {
            try body(UnsafeMutableBufferPointer(rebasing: $0[i * d..<(i + 1) * d]))
        }
    }

    /// Copies individual `sourceIndex` of `source` (genes, fitness, id, step size) into row `index`
    /// with one `memcpy`-speed block copy.
    public mutating func copyIndividual(_ sourceIndex: Int, of source: Population, to index: Int) {
        precondition(source.dimension == dimension, "populations differ in dimension")
        let d = dimension
        genes.withUnsafeMutableBufferPointer { target in
            source.genes.withUnsafeBufferPointer { from in
                (target.baseAddress! + index * d).update(from: from.baseAddress! + sourceIndex * d, count: d)
            }
        }
        fitness[index] = source.fitness[sourceIndex]
        ids[index] = source.ids[sourceIndex]
        stepSizes[index] = source.stepSizes[sourceIndex]
    }

    /// Indices sorted best first; ties keep the lower index first, non-finite fitness ranks last.
    public func ranking() -> [Int] {
        Self.ranking(fitness)
    }

    /// Indices of `fitness` sorted best first; ties keep the lower index first, non-finite fitness
    /// ranks last.
    public static func ranking(_ fitness: [Float]) -> [Int] {
        (0..<fitness.count).sorted { a, b in
            let fa = rankingValue(fitness[a])
            let fb = rankingValue(fitness[b])
            return fa != fb ? fa > fb : a < b
        }
    }

    /// The value `f` ranks by: `f` if finite, else −∞ (NaN and ±∞ rank below every number, tied
    /// with the unevaluated).
    public static func rankingValue(_ f: Float) -> Float {
        f.isFinite ? f : -.infinity
    }

    /// Index of the best individual (the lowest index among equals; non-finite ranks last).
    public var bestIndex: Int {
        precondition(count > 0, "an empty population has no best individual")
        return ranking()[0]
    }

    /// Mean of the finite fitness values (−∞ if none is finite).
    public var meanFitness: Float {
        var sum = 0.0
        var n = 0
        for f in fitness where f.isFinite {
            sum += Double(f)
            n += 1
        }
        return n == 0 ? -Float.infinity : Float(sum / Double(n))
    }
}
