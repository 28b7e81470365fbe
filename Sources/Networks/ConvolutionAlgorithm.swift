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
    /// channels, or 64 or more on a map so narrow that the kernel's 16-column tiles are less than
    /// half used (`OW / (16·⌈OW/16⌉) < 1/2`, e.g. 7 columns).
    ///
    /// Measured with `atoll bench evaluate` (release, 1 OpenBLAS thread, Haswell kernels on an AMD
    /// EPYC with AVX-512, shared 2-core VM; medians of 3 runs, CPU time; each layer with the relu
    /// and 2×2 max-pool after it, 16 genomes), as a share of the 1024³ sgemm rate of the same run
    /// (103–107 GFLOP/s), direct / im2col + GEMM:
    ///
    /// | layer (in→out, kernel, map) | direct | im2col + GEMM |
    /// |---|---|---|
    /// | 1→8 5×5 pad 2, 28×28 (EvoJAX conv1) | 64 % | 22 % |
    /// | 8→16 5×5 pad 2, 14×14 (EvoJAX conv2) | 75 % | 32 % |
    /// | 1→8 3×3, 28×28 (fashion-cnn conv1) | 41 % | 21 % |
    /// | 8→16 3×3, 13×13 (fashion-cnn conv2) | 60 % | 29 % |
    /// | 8→32 3×3 pad 1, 28×28 | 72 % | 52 % |
    /// | 32→32 3×3 pad 1, 14×14 | 75 % | 44 % |
    /// | 64→64 3×3 pad 1, 14×14 | 78 % | 62 % |
    /// | 64→128 3×3 pad 1, 14×14 | 76 % | 77 % |
    /// | 16→16 3×3 pad 1, 7×7 | 41 % | 21 % |
    /// | 32→32 3×3 pad 1, 7×7 | 45 % | 36 % |
    /// | 64→64 3×3 pad 1, 7×7 | 47 % | 52 % |
    /// | 64→128 3×3 pad 1, 7×7 | 47 % | 72 % |
    ///
    /// The direct kernel runs near 75 % of sgemm when its tiles are full and loses the unused
    /// lanes of narrow maps; GEMM per genome is `[OC × C·K·K] · [C·K·K × B·OH·OW]` and gains with
    /// OC, its M dimension.
    public static func directWins(outChannels: Int, laneUse: Double) -> Bool {
        outChannels < 64 || (outChannels < 128 && laneUse >= 0.5)
    }
}
