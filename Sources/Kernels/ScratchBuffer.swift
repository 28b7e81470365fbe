/// A growable buffer of `Element`s, reallocated only when a call needs more room, so repeated
/// calls of the same size allocate nothing: the one scratch type of the networks' layer buffers,
/// the meta-learner's activations and the reproducible allreduce's fixed-point integers.
///
/// `Element` is a plain value type (`Float`, `Int64`). Not thread-safe: one owner (a `Network`, an autoencoder, a thread) uses it at a time.
public final class ScratchBuffer<Element: BitwiseCopyable> {
    /// The first element; valid for `capacity` elements until the next `reserve` that grows.
    public private(set) var pointer: UnsafeMutablePointer<Element>
    /// Elements allocated.
    public private(set) var capacity: Int

    /// An empty buffer (`capacity` 0; `pointer` is a valid allocation all the same).
    public init() {
        pointer = .allocate(capacity: 1)
        capacity = 0
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements; the contents are undefined after a growth.
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        pointer = .allocate(capacity: count)
        capacity = count
    }

    /// Makes room for `count` elements, keeping the first `capacity` ones and setting the added
    /// ones to `fill`.
    public func growKeeping(_ count: Int, fill: Element) {
        guard count > capacity else { return }
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: count)
        grown.moveInitialize(from: pointer, count: capacity)
        (grown + capacity).initialize(repeating: fill, count: count - capacity)
        pointer.deallocate()
        pointer = grown
        capacity = count
    }

    /// Makes room for `count` elements and sets them to `value` (zeroed gradients, say).
    public func filled(_ count: Int, with value: Element) -> UnsafeMutablePointer<Element> {
        reserve(count)
        pointer.update(repeating: value, count: count)
        return pointer
    }
}
