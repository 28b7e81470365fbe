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

/// A growable pair of float buffers: activations and, once a backward pass needs them, their
/// gradients with the same layout.
final class ActivationBuffer {
    private(set) var values: UnsafeMutablePointer<Float>
    private(set) var capacity: Int
    private var gradientStorage: UnsafeMutablePointer<Float>?
    private var gradientCapacity = 0

    init() {
        capacity = 0
        values = .allocate(capacity: 1)
    }

    deinit {
        values.deallocate()
        gradientStorage?.deallocate()
    }

    /// Makes room for `count` floats, keeping the values already stored.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        let grown = UnsafeMutablePointer<Float>.allocate(capacity: count)
        grown.initialize(from: values, count: capacity)
        (grown + capacity).initialize(repeating: 0, count: count - capacity)
        values.deallocate()
        values = grown
        capacity = count
    }

    /// The gradient twin, `count` floats set to zero.
    func zeroedGradients(_ count: Int) -> UnsafeMutablePointer<Float> {
        if gradientCapacity < count {
            gradientStorage?.deallocate()
            gradientStorage = .allocate(capacity: count)
            gradientCapacity = count
        }
        let gradients = gradientStorage!
        gradients.initialize(repeating: 0, count: count)
        return gradients
    }

    /// The gradient twin as last zeroed.
    var gradients: UnsafeMutablePointer<Float> {
        guard let gradientStorage else { preconditionFailure("no backward pass has run") }
        return gradientStorage
    }
}
