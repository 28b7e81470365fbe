import CBLAS
import Collectives
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The BLAS a rank computes with: the library file, its build (version and options) and the
/// kernels it picked for this CPU.
///
/// A GEMM's bits depend on the kernels (OpenBLAS's Prescott and SkylakeX kernels sum in different
/// orders), so a run is bit-reproducible only on one kernel: a run whose ranks use different ones
/// matches neither. `OPENBLAS_CORETYPE` chooses the kernels of a `DYNAMIC_ARCH` build.
public struct BLASKernel: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The shared library's file (symbolic links resolved), e.g. `libopenblasp-r0.3.21.so`.
    public var library: String
    /// `openblas_get_config()`: version and build options.
    public var build: String
    /// `openblas_get_corename()`: the kernels in use, e.g. `SkylakeX`.
    public var core: String

    /// This process's BLAS, read once (`openblas_get_config` builds its answer in a static
    /// buffer, so concurrent calls from rank threads would garble it).
    public static let current: BLASKernel = {
        let build = openblas_get_config().map { String(cString: $0) } ?? "unknown build"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return BLASKernel(
            library: libraryFile() ?? "unknown library", build: build.trimmingCharacters(in: .whitespaces), core: core)
    }()

    /// The file mapped where `openblas_get_config` lives (`/proc/self/maps`: `start-end perms
    /// offset device inode path`, addresses in hex), symbolic links resolved; `nil` off Linux.
    static func libraryFile() -> String? {
        // RTLD_DEFAULT (a null handle): the process's global symbol scope.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_get_config"),
            let file = FileHandle(forReadingAtPath: "/proc/self/maps")
        else { return nil }
        defer { try? file.close() }
        // Read to the end: /proc files report a size of 0.
        let maps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        let address = UInt(bitPattern: symbol)
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let range = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            if range.count == 2, range[0] <= address, address < range[1] {
                return URL(fileURLWithPath: fields[5...].joined(separator: " ")).resolvingSymlinksInPath()
                    .lastPathComponent
            }
        }
        return nil
    }

    public var description: String { "core \(core) (\(build), \(library))" }

    /// Every rank's kernel, gathered, checked to be one and the same.
    ///
    /// - Parameter allowMixed: accept different kernels (with a warning), for a run that does not
    ///   promise the same bits anyway (`allreduce: fast`).
    /// - Returns: a description of the kernel(s) for `summary.json` and the checkpoints.
    /// - Throws: `RunError` (on every rank alike) naming each kernel and the ranks that use it.
    static func agree(_ communicator: any Communicator, allowMixed: Bool, fastAllreduce: Bool, warn: (String) -> Void)
        throws -> String
    {
        let mine = String(decoding: try JSONEncoder().encode(current), as: UTF8.self)
        let kernels = try communicator.allgatherStrings(mine).map {
            try JSONDecoder().decode(BLASKernel.self, from: Data($0.utf8))
        }
        let groups = Self.groups(kernels)
        if groups.count == 1 { return kernels[0].description }
        let listing = groups.map { "\(Self.ranks($0.ranks)): \($0.kernel)" }.joined(separator: "; ")
        guard allowMixed && fastAllreduce else {
            let remedy =
                allowMixed
                ? "--allow-mixed-blas needs `allreduce: fast` in the config (a reproducible run must not mix kernels)"
                : "Set the same OPENBLAS_CORETYPE on every rank (deploy/env/openblas.env, or mpirun -x OPENBLAS_CORETYPE=…); a run with `allreduce: fast` may pass --allow-mixed-blas instead"
            throw RunError(
                "the ranks use different BLAS kernels, so the run would give the bits of neither: \(listing). \(remedy)",
                sharedByAllRanks: true)
        }
        if communicator.rank == 0 {
            warn(
                "the ranks use different BLAS kernels (allowed by --allow-mixed-blas): \(listing); the results are not reproducible"
            )
        }
        return "mixed: " + listing
    }

    /// The distinct kernels with the ranks using each, in order of their first rank.
    static func groups(_ kernels: [BLASKernel]) -> [(kernel: BLASKernel, ranks: [Int])] {
        var groups: [(kernel: BLASKernel, ranks: [Int])] = []
        for (rank, kernel) in kernels.enumerated() {
            if let i = groups.firstIndex(where: { $0.kernel == kernel }) {
                groups[i].ranks.append(rank)
            } else {
                groups.append((kernel, [rank]))
            }
        }
        return groups
    }

    /// `rank 3` or `ranks 0, 1, 2`.
    static func ranks(_ ranks: [Int]) -> String {
        (ranks.count == 1 ? "rank " : "ranks ") + ranks.map(String.init).joined(separator: ", ")
    }
}
