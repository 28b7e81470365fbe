import VectorKernels

/// How `Network`'s population forward pass runs its conv2d layers.
///
/// `im2col` unfolds the input into columns and runs one `cblas_sgemm` per genome (or one for a
/// group of genomes on shared inputs); `direct` runs `VectorKernels.DirectConvolution` (stride 1
/// only, on CPUs with AVX2 and FMA or on arm64; other layers and CPUs fall back to im2col);
/// `automatic` picks per layer with `directWins`. The choice depends on the layer's shape only,
/// never on the population or batch size, so a genome's outputs are the same however the
/// population is split over ranks.
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
    case automatic, im2col, direct

    /// The measured choice for a stride-1 layer: direct unless it has 128 or more output
    /// channels, or 64 or more with less than half of the direct kernel's lanes used
    /// (`DirectConvolution.Plan.laneUse`, which no layer measured here comes close to).
    ///
    /// Measured with `atoll bench evaluate` (release, 1 OpenBLAS thread, Haswell kernels on an AMD
    /// EPYC with AVX-512, a 2-core VM under load 8–12 from other builds; medians of 3 runs, CPU
    /// time; each layer with the relu and 2×2 max-pool after it, 16 genomes), as a share of the
    /// 1024³ sgemm rate of the same run (102–112 GFLOP/s), direct / im2col + GEMM; the direct
    /// kernel's tile layout (`DirectConvolution.Plan`) in brackets:
    ///
    /// | layer (in→out, kernel, map) | direct | im2col + GEMM |
    /// |---|---|---|
    /// | 1→8 5×5 pad 2, 28×28 (EvoJAX conv1) | 55 % (rows) | 24 % |
    /// | 8→16 5×5 pad 2, 14×14 (EvoJAX conv2) | 73 % (rows) | 32 % |
    /// | 1→8 3×3, 28×28 (fashion-cnn conv1) | 29 % (rows) | 15 % |
    /// | 8→16 3×3, 13×13 (fashion-cnn conv2) | 58 % (rows) | 22 % |
    /// | 8→32 3×3 pad 1, 28×28 | 70 % (rows) | 56 % |
    /// | 32→32 3×3 pad 1, 14×14 | 74 % (rows) | 47 % |
    /// | 64→64 3×3 pad 1, 14×14 | 76 % (rows) | 54 % |
    /// | 64→128 3×3 pad 1, 14×14 | 75 % (rows) | 64 % |
    /// | 16→16 3×3 pad 1, 7×7 | 51 % (flat) | 17 % |
    /// | 32→32 3×3 pad 1, 7×7 | 65 % (flat) | 30 % |
    /// | 64→64 3×3 pad 1, 7×7 | 68 % (flat) | 47 % |
    /// | 64→128 3×3 pad 1, 7×7 | 68 % (flat) | 68 % |
    ///
    /// Three earlier runs on a less loaded machine gave 64 %, 75 %, 41 % and 60 % for the first
    /// four rows (im2col 22 %, 32 %, 21 %, 29 %) and 76 % / 77 % for 64→128 on 14×14; three
    /// later ones, with this code on a quieter machine, stayed within 5 points of the table
    /// (64→64 on 7×7: 70 % / 55 %; 64→128 on 14×14: 77 % / 78 %). The direct
    /// kernel runs near 75–80 % of sgemm when its tiles are full; GEMM per genome is
    /// `[OC × C·K·K] · [C·K·K × B·OH·OW]` and gains with OC, its M dimension, until the two meet
    /// near OC = 128.
    public static func directWins(outChannels: Int, laneUse: Double) -> Bool {
        outChannels < 64 || (outChannels < 128 && laneUse >= 0.5)
    }
}
