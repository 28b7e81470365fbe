import CMPI
import Foundation

/// `Communicator` over `MPI_COMM_WORLD`: real Open MPI, under `mpirun` or as a singleton.
///
/// Every failing MPI call throws `CommunicatorError.mpi` with `MPI_Error_string`'s text. Buffers
/// longer than `Int32.max` elements are reduced and broadcast in chunks (MPI counts are `int`).
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm

    /// Joins `MPI_COMM_WORLD`, initialising MPI on first use.
    public init() {
        _ = MPIRuntime.shared
        comm = atoll_mpi_comm_world()
        var r: Int32 = 0
        var s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
    }

    private static let chunk = Int(Int32.max)

    private static func datatype(_ kind: ScalarKind) -> MPI_Datatype {
        switch kind {
        case .float32: atoll_mpi_float()
        case .float64: atoll_mpi_double()
        case .int64: atoll_mpi_int64()
        case .uint8: atoll_mpi_byte()
        }
    }

    private static func mpiOp(_ op: ReduceOp) -> MPI_Op {
        switch op {
        case .sum: atoll_mpi_sum()
        case .max: atoll_mpi_max()
        case .min: atoll_mpi_min()
        }
    }

    private func checkRank(_ r: Int, _ role: String) throws {
        guard (0..<size).contains(r) else {
            throw CommunicatorError.invalidArgument("\(role) rank \(r) is outside 0..<\(size)")
        }
    }

    private static func int32Count(_ n: Int, _ what: String) throws -> Int32 {
        guard let count = Int32(exactly: n) else {
            throw CommunicatorError.invalidArgument("\(what) has \(n) elements, more than MPI's int count allows")
        }
        return count
    }

    public func allreduce<T: CommScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws {
        let type = Self.datatype(T.kind)
        var start = 0
        while start < buffer.count {
            let n = min(Self.chunk, buffer.count - start)
            try MPIRuntime.check(
                MPI_Allreduce(atoll_mpi_in_place(), buffer.baseAddress! + start, Int32(n), type, Self.mpiOp(op), comm),
                "MPI_Allreduce")
            start += n
        }
    }

    public func broadcast<T: CommScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        try checkRank(root, "broadcast root")
        var start = 0
        while start < buffer.count {
            let n = min(Self.chunk, buffer.count - start)
            try MPIRuntime.check(
                MPI_Bcast(buffer.baseAddress! + start, Int32(n), Self.datatype(T.kind), Int32(root), comm),
                "MPI_Bcast")
            start += n
        }
    }

    public func allgather<T: CommScalar>(_ sent: UnsafeBufferPointer<T>, into received: UnsafeMutableBufferPointer<T>)
        throws
    {
        guard received.count == sent.count * size else {
            throw CommunicatorError.invalidArgument(
                "allgather needs \(sent.count * size) receive slots, got \(received.count)")
        }
        let count = try Self.int32Count(sent.count, "allgather block")
        let type = Self.datatype(T.kind)
        try MPIRuntime.check(
            MPI_Allgather(sent.baseAddress, count, type, received.baseAddress, count, type, comm), "MPI_Allgather")
    }

    public func allgatherv<T: CommScalar>(
        _ sent: UnsafeBufferPointer<T>, counts: [Int], into received: UnsafeMutableBufferPointer<T>
    ) throws {
        guard counts.count == size, counts[rank] == sent.count, received.count == counts.reduce(0, +) else {
            throw CommunicatorError.invalidArgument(
                "allgatherv counts \(counts) do not fit this rank's \(sent.count) elements or the \(received.count) receive slots"
            )
        }
        var displacements: [Int32] = []
        var offset = 0
        for c in counts {
            displacements.append(try Self.int32Count(offset, "allgatherv displacement"))
            offset += c
        }
        let counts32 = try counts.map { try Self.int32Count($0, "allgatherv block") }
        let type = Self.datatype(T.kind)
        try MPIRuntime.check(
            MPI_Allgatherv(
                sent.baseAddress, Int32(sent.count), type, received.baseAddress, counts32, displacements, type, comm),
            "MPI_Allgatherv")
    }

    public func sendrecv<T: CommScalar>(
        _ sent: UnsafeBufferPointer<T>, to destination: Int,
        into received: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int
    ) throws {
        try checkRank(destination, "sendrecv destination")
        try checkRank(source, "sendrecv source")
        let type = Self.datatype(T.kind)
        try MPIRuntime.check(
            MPI_Sendrecv(
                sent.baseAddress, try Self.int32Count(sent.count, "sendrecv message"), type, Int32(destination),
                Int32(tag),
                received.baseAddress, try Self.int32Count(received.count, "sendrecv message"), type, Int32(source),
                Int32(tag),
                comm, atoll_mpi_status_ignore()),
            "MPI_Sendrecv")
    }

    public func exchange<T: CommScalar>(sends: [OutgoingMessage<T>], receives: [IncomingMessage<T>]) throws {
        let type = Self.datatype(T.kind)
        var requests = [MPI_Request?](repeating: atoll_mpi_request_null(), count: sends.count + receives.count)
        for (i, message) in receives.enumerated() {
            try checkRank(message.peer, "exchange source")
            try MPIRuntime.check(
                MPI_Irecv(
                    message.buffer.baseAddress, try Self.int32Count(message.buffer.count, "exchange message"), type,
                    Int32(message.peer), Int32(message.tag), comm, &requests[i]),
                "MPI_Irecv")
        }
        for (i, message) in sends.enumerated() {
            try checkRank(message.peer, "exchange destination")
            try MPIRuntime.check(
                MPI_Isend(
                    message.values.baseAddress, try Self.int32Count(message.values.count, "exchange message"), type,
                    Int32(message.peer), Int32(message.tag), comm, &requests[receives.count + i]),
                "MPI_Isend")
        }
        try MPIRuntime.check(MPI_Waitall(Int32(requests.count), &requests, atoll_mpi_statuses_ignore()), "MPI_Waitall")
    }

    public func barrier() throws {
        try MPIRuntime.check(MPI_Barrier(comm), "MPI_Barrier")
    }

    public func abort(message: String) -> Never {
        fputs("atoll: rank \(rank) aborting the run: \(message)\n", stderr)
        fflush(stderr)
        MPI_Abort(comm, 1)
        exit(1)
    }
}
