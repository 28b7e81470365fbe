/// Hands out consecutive regions of an activation buffer: a bump allocator of offsets.
///
/// A forward pass plans all its activations once for a given batch shape; the backward pass uses
/// the same offsets in a twin buffer for the activations' gradients (llm.c's `acts`/`grads_acts`).
struct ActivationLayout {
    /// Floats handed out so far.
    private(set) var count = 0

    /// Reserves `size` floats and returns their offset.
    mutating func take(_ size: Int) -> Int {
        let offset = count
        count += size
        return offset
    }
}
