/// The reduction applied element-wise by `Communicator.allreduce`.
public enum ReduceOp: String, Sendable, CaseIterable {
    case sum, max, min
}

/// The element types a `Communicator` moves: 32- and 64-bit floats, 64-bit integers and bytes.
public enum ScalarKind: String, Sendable {
    case float32, float64, int64, uint8

    /// Size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .float32: 4
        case .float64: 8
        case .int64: 8
        case .uint8: 1
        }
    }
}

/// A number type that a `Communicator` can send and reduce.
public protocol CommScalar: BitwiseCopyable, Comparable, Sendable {
    static var kind: ScalarKind { get }
    /// `a + b`, wrapping on overflow for integers (as `MPI_SUM` does).
    static func reduceSum(_ a: Self, _ b: Self) -> Self
}

extension Float: CommScalar {
    public static var kind: ScalarKind { .float32 }
    public static func reduceSum(_ a: Float, _ b: Float) -> Float { a + b }
}

extension Double: CommScalar {
    public static var kind: ScalarKind { .float64 }
    public static func reduceSum(_ a: Double, _ b: Double) -> Double { a + b }
}

extension Int64: CommScalar {
    public static var kind: ScalarKind { .int64 }
    public static func reduceSum(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }
}

extension UInt8: CommScalar {
    public static var kind: ScalarKind { .uint8 }
    public static func reduceSum(_ a: UInt8, _ b: UInt8) -> UInt8 { a &+ b }
}

/// A group of ranks that exchange numbers: the world of an MPI job, or threads in one process.
///
/// Every collective (`allreduce`, `broadcast`, `allgather`, `allgatherv`, `barrier`) must be called
/// by every rank, in the same order, with matching arguments (same element type and count, same
/// root). Point-to-point exchange is `sendrecv` with a named peer. Buffers are caller-owned flat
/// storage, so a whole gradient buffer moves in one call (no per-tensor messages).
public protocol Communicator: AnyObject, Sendable {
    /// This process's (or thread's) index, `0 ..< size`.
    var rank: Int { get }
    /// Number of ranks in the group.
    var size: Int { get }

    /// Combines `buffer` element-wise over all ranks with `op`; every rank receives the result in place.
    func allreduce<T: CommScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws

    /// Copies `buffer` on rank `root` into `buffer` on every other rank.
    func broadcast<T: CommScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws

    /// Gathers an equal-sized block from every rank: `received` is `size × sent.count`, rank r's
    /// block at offset `r · sent.count`.
    func allgather<T: CommScalar>(_ sent: UnsafeBufferPointer<T>, into received: UnsafeMutableBufferPointer<T>) throws

    /// Gathers blocks of different sizes: `counts[r]` elements from rank r, placed one after
    /// another in rank order in `received` (whose count is `counts.reduce(0, +)`).
    func allgatherv<T: CommScalar>(
        _ sent: UnsafeBufferPointer<T>, counts: [Int], into received: UnsafeMutableBufferPointer<T>) throws

    /// Sends `sent` to rank `destination` and receives `received.count` elements from rank
    /// `source`, both tagged `tag`, without deadlock when peers send to each other.
    func sendrecv<T: CommScalar>(
        _ sent: UnsafeBufferPointer<T>, to destination: Int,
        into received: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int
    ) throws

    /// Sends every message of `sends` and fills every buffer of `receives`, all at once, so a set
    /// of ranks can exchange along any graph (migration between islands) without deadlock.
    ///
    /// Each rank must post exactly the receives that match the sends addressed to it (same peer,
    /// tag and count). Messages between the same pair of ranks with the same tag arrive in order.
    func exchange<T: CommScalar>(sends: [OutgoingMessage<T>], receives: [IncomingMessage<T>]) throws

    /// Returns once every rank has called it.
    func barrier() throws

    /// Stops every rank of the group, printing `message` on standard error.
    func abort(message: String) -> Never
}

/// A message to send in `Communicator.exchange`.
public struct OutgoingMessage<T: CommScalar> {
    public let peer: Int
    public let tag: Int
    public let values: UnsafeBufferPointer<T>

    public init(to peer: Int, tag: Int, values: UnsafeBufferPointer<T>) {
        self.peer = peer
        self.tag = tag
        self.values = values
    }
}

/// A message to receive in `Communicator.exchange`: `buffer.count` elements from `peer`.
public struct IncomingMessage<T: CommScalar> {
    public let peer: Int
    public let tag: Int
    public let buffer: UnsafeMutableBufferPointer<T>

    public init(from peer: Int, tag: Int, into buffer: UnsafeMutableBufferPointer<T>) {
        self.peer = peer
        self.tag = tag
        self.buffer = buffer
    }
}

// MARK: - Array conveniences

extension Communicator {
    /// `allreduce` on an array in place.
    public func allreduce<T: CommScalar>(_ values: inout [T], op: ReduceOp) throws {
        try values.withUnsafeMutableBufferPointer { try allreduce($0, op: op) }
    }

    /// `broadcast` on an array in place; every rank must pass an array of the same count.
    public func broadcast<T: CommScalar>(_ values: inout [T], root: Int) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// Gathers `values` (the same count on every rank) from every rank, in rank order.
    public func allgather<T: CommScalar>(_ values: [T]) throws -> [T] {
        var received = [T](repeating: values.first ?? T.zeroValue, count: values.count * size)
        try values.withUnsafeBufferPointer { sent in
            try received.withUnsafeMutableBufferPointer { try allgather(sent, into: $0) }
        }
        return received
    }

    /// Gathers arrays of any count from every rank: element r of the result is rank r's array.
    public func allgatherv<T: CommScalar>(_ values: [T]) throws -> [[T]] {
        let counts = try allgather([Int64(values.count)]).map { Int($0) }
        var received = [T](repeating: T.zeroValue, count: counts.reduce(0, +))
        try values.withUnsafeBufferPointer { sent in
            try received.withUnsafeMutableBufferPointer { try allgatherv(sent, counts: counts, into: $0) }
        }
        var result: [[T]] = []
        var offset = 0
        for count in counts {
            result.append(Array(received[offset..<offset + count]))
            offset += count
        }
        return result
    }

    /// Gathers one string from every rank, in rank order (UTF-8 over `allgatherv`).
    public func allgatherStrings(_ text: String) throws -> [String] {
        try allgatherv(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension CommScalar {
    /// All bits zero: 0 for every supported type.
    static var zeroValue: Self {
        withUnsafeTemporaryAllocation(of: Self.self, capacity: 1) { buffer in
            UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            return buffer[0]
        }
    }
}

/// Calls `body` with read-only views of every array, valid for the duration of the call: the
/// form `ReproducibleAllreduce.sum` and `exchange` take several buffers in.
public func withBufferViews<T, R>(_ arrays: [[T]], _ body: ([UnsafeBufferPointer<T>]) throws -> R) rethrows -> R {
    func recurse(_ index: Int, _ collected: [UnsafeBufferPointer<T>]) throws -> R {
        if index == arrays.count { return try body(collected) }
        return try arrays[index].withUnsafeBufferPointer { try recurse(index + 1, collected + [$0]) }
    }
    return try recurse(0, [])
}
