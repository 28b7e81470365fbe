/// A reproducible random stream keyed by `(seed, island, generation, purpose)`.
///
/// The key is hashed with SplitMix64 (Steele, Lea & Flood 2014) into the 256-bit state of
/// xoshiro256** (Blackman & Vigna 2018). The same key gives the same numbers on every rank,
/// thread and platform: only integer arithmetic, IEEE `+ − × ÷`, `sqrt` and `PortableMath.log`
/// (a polynomial, not the platform's libm) are used. Gaussian draws use Marsaglia's polar method.
/// The whole state (including a cached second Gaussian) is `Codable`, so a checkpoint can store
/// a stream's position and resume it exactly.
public struct RandomStream: Codable, Equatable, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareGaussian: Double?

    /// A stream for one purpose of one island in one generation of a run.
    ///
    /// - Parameters:
    ///   - seed: the run's seed.
    ///   - island: logical island index (never the MPI rank).
    ///   - generation: generation index.
    ///   - purpose: what the numbers are for (`"mutation"`, `"selection"`, …); different
    ///     purposes give independent streams.
    public init(seed: UInt64, island: Int = 0, generation: Int = 0, purpose: String) {
        var key = SplitMix64(state: seed)
        var h = key.next()
        h = SplitMix64.mix(h ^ UInt64(bitPattern: Int64(island)) &* 0x9E37_79B9_7F4A_7C15)
        h = SplitMix64.mix(h ^ UInt64(bitPattern: Int64(generation)) &* 0xC2B2_AE3D_27D4_EB4F)
        h = SplitMix64.mix(h ^ Self.fnv1a(purpose))
        var expand = SplitMix64(state: h)
        s0 = expand.next()
        s1 = expand.next()
        s2 = expand.next()
        s3 = expand.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    public mutating func uniformFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// Uniform in `[low, high)`.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// Uniform integer in `0 ..< bound` without modulo bias (Lemire's multiply-and-reject).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Standard normal draw, Marsaglia's polar method: for `u, v` uniform in `(−1, 1)` with
    /// `s = u² + v² ∈ (0, 1)`, both `u·√(−2 ln s / s)` and `v·√(−2 ln s / s)` are N(0, 1).
    public mutating func gaussian() -> Double {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * PortableMath.log(s) / s).squareRoot()
                spareGaussian = v * factor
                return u * factor
            }
        }
    }

    /// Fills `buffer` with N(mean, std²) draws.
    public mutating func fillGaussian(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1) {
        for i in buffer.indices { buffer[i] = mean + std * Float(gaussian()) }
    }

    /// Fills `buffer` with uniform draws in `[low, high)`.
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, low: Float, high: Float) {
        for i in buffer.indices { buffer[i] = low + (high - low) * uniformFloat() }
    }

    /// Fisher–Yates shuffle of `values`.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, below(i + 1))
        }
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// FNV-1a 64-bit hash of the UTF-8 bytes (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit counter passed through a bijective mixer.
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix64 finaliser: a bijection on 64-bit words with full avalanche.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
