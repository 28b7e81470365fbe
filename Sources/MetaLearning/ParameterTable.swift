/// The named tensors of a model laid out one after another in a single flat buffer.
///
/// As in llm.c, every parameter is a view `(offset, shape)` into one buffer and the gradients sit in
/// a twin buffer with the same layout, so AdamW is one loop over the table and one allreduce moves
/// every gradient at once.
public struct ParameterTable: Sendable, Equatable {
    /// One tensor of the table.
    public struct Entry: Sendable, Equatable {
        /// Dotted name, e.g. `encoder.cross.attention.query.weight`.
        public let name: String
        /// Shape, PyTorch's order (a linear weight is `[out, in]`).
        public let shape: [Int]
        /// Index of the first element in the flat buffer.
        public let offset: Int
        /// Whether AdamW applies weight decay to it (matrices and learned tables, not biases or
        /// layer-norm gains).
        public let decays: Bool

        /// Number of elements.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The tensors in buffer order.
    public private(set) var entries: [Entry] = []
    /// Total number of floats.
    public private(set) var count = 0
    private var positions: [String: Int] = [:]

    public init() {}

    /// Appends a tensor and returns its offset.
    mutating func add(_ name: String, _ shape: [Int], decays: Bool) -> Int {
        precondition(positions[name] == nil, "parameter \(name) defined twice")
        let entry = Entry(name: name, shape: shape, offset: count, decays: decays)
        positions[name] = entries.count
        entries.append(entry)
        count += entry.count
        return entry.offset
    }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> Entry? {
        positions[name].map { entries[$0] }
    }
}
