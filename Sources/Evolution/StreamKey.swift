import Kernels

/// What a random stream is used for. Each purpose draws from its own independent stream, so
/// changing how many numbers one operator consumes never shifts the numbers another one sees.
public enum StreamPurpose: String, Codable, CaseIterable, Sendable {
    /// Drawing the first population or the first mean of a strategy.
    case initialization
    /// Choosing parents.
    case selection
    /// Recombining two parents into a child.
    case crossover
    /// Mutating a child.
    case mutation
    /// Sampling the offspring of an evolution strategy (SNES, CMA-ES).
    case sampling
    /// Sampling the latents a decoder turns into residual steps (`SubspaceSNES` with a decoder).
    case decoding
    /// Choosing the neurons a focused candidate mutates (`SubspaceSNES` with attention focus).
    case focus
}

/// The key of every random stream used in one generation of one island: `(seed, island,
/// generation)`; the purpose (and, for per-child streams, the child's index) completes it.
///
/// A generation's numbers depend on this key only — never on the MPI rank, the thread that runs an
/// operator or the order threads finish — so a run gives the same bits on 1 rank or 16, with one
/// thread or many. Streams are `Kernels.RandomStream` (xoshiro256** seeded through SplitMix64,
/// portable polar-method Gaussians).
public struct StreamKey: Codable, Hashable, Sendable {
    /// The run's seed.
    public var seed: UInt64
    /// Logical island index (not the rank that hosts it).
    public var island: Int
    /// Generation index.
    public var generation: Int

    public init(seed: UInt64, island: Int = 0, generation: Int) {
        self.seed = seed
        self.island = island
        self.generation = generation
    }

    /// The stream for one purpose of this island and generation.
    public func stream(_ purpose: StreamPurpose) -> RandomStream {
        RandomStream(seed: seed, island: island, generation: generation, purpose: purpose.rawValue)
    }

    /// The stream for one purpose applied to one child: children can then be made on any number of
    /// threads, in any order, with identical results. The child's index is folded into the seed
    /// through the SplitMix64 finaliser (a bijection), so making a child's stream costs a few
    /// multiplications and no string building.
    public func stream(_ purpose: StreamPurpose, individual: Int) -> RandomStream {
        let childSeed = SplitMix64.mix(seed ^ (UInt64(bitPattern: Int64(individual)) &+ 1) &* 0xD1B5_4A32_D192_ED03)
        return RandomStream(seed: childSeed, island: island, generation: generation, purpose: purpose.rawValue)
    }

    /// The key of the next generation on the same island.
    public var next: StreamKey { StreamKey(seed: seed, island: island, generation: generation + 1) }
}
