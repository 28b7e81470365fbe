/// A group of genomes given as one anchor plus a low-rank code per genome (EGGROLL, `LowRankES`),
/// in the layout of a network's parameters.
///
/// For each tensor of `layout`, in order, a code holds: for a weight of two or more dimensions,
/// seen as a matrix `[out × rest]`, `A` row-major `[out × r]` then `Bᵀ` row-major `[r × rest]`;
/// for any other tensor (a bias), `ε` of its length. Genome `p` is then
///
///   `W = W₀ + (σ_t/√r) A_p B_pᵀ`,  `b = b₀ + σ_t ε_p`,
///
/// `W₀`, `b₀` being the anchor's tensors and `σ_t` the step size of tensor `t` (one for all, or one
/// per tensor of the layout). Genome `p`'s code starts at `codes + p · stride`. The
/// pointers must stay valid for the call they are passed to.
public struct LowRankGenomes {
    /// `[parameterCount]`, the anchor genome.
    public let anchor: UnsafePointer<Float>
    public let codes: UnsafePointer<Float>
    /// Floats from one genome's code to the next one's.
    public let stride: Int
    public let rank: Int
    /// `σ_t`: one value for every tensor, or one per tensor of the layout, in order.
    public let sigmas: [Float]

    public init(anchor: UnsafePointer<Float>, codes: UnsafePointer<Float>, stride: Int, rank: Int, sigma: Float) {
        self.init(anchor: anchor, codes: codes, stride: stride, rank: rank, sigmas: [sigma])
    }

    public init(anchor: UnsafePointer<Float>, codes: UnsafePointer<Float>, stride: Int, rank: Int, sigmas: [Float]) {
        precondition(!sigmas.isEmpty, "a low-rank group needs at least one step size")
        self.anchor = anchor
        self.codes = codes
        self.stride = stride
        self.rank = rank
        self.sigmas = sigmas
    }

    /// `σ_t` of tensor `t`.
    public func sigma(tensor t: Int) -> Float { sigmas.count == 1 ? sigmas[0] : sigmas[t] }

    /// Where each tensor's part starts in a code of rank `rank` for `layout`, and the code's length.
    public static func codeOffsets(_ layout: ParameterLayout, rank: Int) -> (offsets: [Int], length: Int) {
        var offsets: [Int] = []
        var at = 0
        for tensor in layout.tensors {
            offsets.append(at)
            at += isMatrix(tensor) ? rank * (tensor.shape[0] + tensor.count / tensor.shape[0]) : tensor.count
        }
        return (offsets, at)
    }

    /// Whether `tensor` is perturbed at low rank (a weight of two or more dimensions).
    public static func isMatrix(_ tensor: ParameterLayout.Tensor) -> Bool {
        tensor.shape.count >= 2 && !tensor.isBias
    }
}
