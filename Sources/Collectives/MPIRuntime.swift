import CMPI
import Foundation

/// The process-wide MPI library state: initialised once, on first use, and finalised at exit.
///
/// `MPI_Init` may run only once per process, so every `MPICommunicator` shares this runtime.
/// A program started without `mpirun` becomes a singleton world (rank 0 of 1).
public final class MPIRuntime: @unchecked Sendable {
    /// The runtime, initialising MPI with `MPI_THREAD_FUNNELED` the first time it is read.
    public static let shared = MPIRuntime()

    /// The thread level MPI granted (`MPI_THREAD_FUNNELED` or better).
    public let providedThreadLevel: Int32

    private init() {
        var alreadyInitialised: Int32 = 0
        MPI_Initialized(&alreadyInitialised)
        var provided: Int32 = 0
        if alreadyInitialised == 0 {
            let code = MPI_Init_thread(nil, nil, atoll_mpi_thread_funneled(), &provided)
            if code != atoll_mpi_success() {
                fputs("atoll: MPI_Init_thread failed: \(MPIRuntime.errorString(code))\n", stderr)
                exit(1)
            }
            atexit {
                var finalized: Int32 = 0
                MPI_Finalized(&finalized)
                if finalized == 0 { MPI_Finalize() }
            }
        } else {
            MPI_Query_thread(&provided)
        }
        providedThreadLevel = provided
        // Errors come back as return codes, which `check` turns into Swift errors.
        MPI_Comm_set_errhandler(atoll_mpi_comm_world(), atoll_mpi_errors_return())
    }

    /// `MPI_Get_library_version`: the MPI implementation's own description of itself.
    public var libraryVersion: String {
        var bytes = [CChar](repeating: 0, count: Int(atoll_mpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&bytes, &length)
        return Self.text(bytes, length)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `MPI_Get_processor_name`: the host this rank runs on.
    public var processorName: String {
        var bytes = [CChar](repeating: 0, count: Int(atoll_mpi_max_processor_name()) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&bytes, &length)
        return Self.text(bytes, length)
    }

    /// `MPI_Error_string(code)`.
    public static func errorString(_ code: Int32) -> String {
        var bytes = [CChar](repeating: 0, count: Int(atoll_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &bytes, &length)
        return Self.text(bytes, length)
    }

    /// The first `length` characters of a C string buffer filled by MPI, without NUL bytes.
    private static func text(_ bytes: [CChar], _ length: Int32) -> String {
        String(decoding: bytes.prefix(Int(length)).map { UInt8(bitPattern: $0) }.filter { $0 != 0 }, as: UTF8.self)
    }

    /// Throws `CommunicatorError.mpi` unless `code` is `MPI_SUCCESS`.
    static func check(_ code: Int32, _ function: String) throws {
        if code != atoll_mpi_success() {
            throw CommunicatorError.mpi(function: function, code: code, message: errorString(code))
        }
    }
}
