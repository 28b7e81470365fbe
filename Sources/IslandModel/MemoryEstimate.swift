import Collectives
import Foundation
import Networks

/// A rank's peak memory, estimated from the configuration before anything large is allocated,
/// and the limits it must fit in.
///
/// With I = the islands on the busiest rank, P = `islands.population`, D = the network's
/// parameters and 4 bytes a value:
///
///     peak ≈ in use now + I · P · D · 4 · k + I · A · D · 4 + I · c · D² · 4
///
/// where k is the genome copies the algorithm holds per individual (measured with `ru_maxrss`
/// on mlp:64-256-10, 2,000 individuals: GA 3.0 — parents, offspring and the migration/encoding
/// copy; SNES and sep-CMA-ES 2.0; EGGROLL 0.3, whose population is codes: 0.5 taken), A the
/// archive of a run that trains a meta-learner (`meta.archive_size`), and c = 12 for CMA-ES's
/// D × D matrices (covariance, eigenvectors, workspace; 0 otherwise). "In use now" is the
/// process's resident set (or address space, for `ulimit -v`) after the task's data is loaded.
///
/// The limits: `ulimit -v` (`RLIMIT_AS`, against the address space), the cgroup's `memory.max`
/// and the physical memory (both against the resident set, shared by the ranks of one host).
/// Every product is checked: a size past `Int.max` is an error, not a trap.
public struct MemoryEstimate: Equatable, Sendable {
    /// Bytes the run will add to this rank, beyond what it holds now.
    public let addedBytes: Int
    /// How the figure was made, in words.
    public let breakdown: String

    /// A limit on memory, where it comes from, and whether it counts the address space.
    public struct Limit: Equatable, Sendable {
        public var bytes: Int
        public var source: String
        public var addressSpace: Bool
        public init(bytes: Int, source: String, addressSpace: Bool) {
            self.bytes = bytes
            self.source = source
            self.addressSpace = addressSpace
        }
    }

    /// - Throws: `RunError` when a product overflows `Int` (an absurd population or network).
    public init(config: RunConfig, parameterCount: Int, rankCount: Int) throws {
        let islands = (config.islands.count + max(1, rankCount) - 1) / max(1, rankCount)
        let population = config.islands.population
        let d = parameterCount
        // Copies of a genome per individual, in tenths (measured, see above).
        let tenths: Int
        switch config.evolution.algorithm {
        case .snes, .sepCMAES: tenths = 20
        case .eggroll: tenths = 5
        case .cmaes: tenths = 20
        default: tenths = 30
        }
        let archive = config.latent.trainsMetaLearner ? config.meta.archiveSize : 0
        let square = config.evolution.algorithm == .cmaes ? 12 : 0
        func product(_ factors: Int...) -> Int? {
            var result = 1
            for f in factors {
                let (p, overflow) = result.multipliedReportingOverflow(by: f)
                if overflow { return nil }
                result = p
            }
            return result
        }
        func uncountable(_ what: String) -> RunError {
            RunError(
                "\(what) × \(d) parameters × \(islands) island(s) per rank is more memory than can be counted "
                    + "(past 2^63 bytes): lower it or the network's size")
        }
        guard let genes = product(islands, population, d, 4, tenths).map({ $0 / 10 }) else {
            throw uncountable("islands.population \(population)")
        }
        guard let archived = product(islands, archive, d, 4) else { throw uncountable("meta.archive_size \(archive)") }
        guard let matrices = product(islands, square, d, d, 4) else {
            throw uncountable("CMA-ES's \(d) × \(d) matrices")
        }
        guard case (let sum, let o1) = genes.addingReportingOverflow(archived), !o1,
            case (let total, let o2) = sum.addingReportingOverflow(matrices), !o2
        else {
            throw uncountable("islands.population \(population) with meta.archive_size \(archive)")
        }
        addedBytes = total
        var parts = [
            "\(islands) island(s) per rank × population \(population) × \(d) parameters × 4 B × \(Double(tenths) / 10) copies"
        ]
        if archive > 0 { parts.append("archives of \(archive)") }
        if square > 0 { parts.append("CMA-ES's \(d)² matrices") }
        breakdown = parts.joined(separator: " + ")
    }

    /// Refuses (before generation 0) when the estimate does not fit a limit.
    ///
    /// - Parameters:
    ///   - ranksInProcess: ranks that share this process (threads of `--local-ranks`), whose
    ///     additions all land in it.
    ///   - ranksOnHost: ranks sharing this machine's physical memory and cgroup.
    ///   - limits: the limits to check (`MemoryEstimate.limits()` unless a test gives its own).
    ///   - resident, addressSpace: bytes this process holds now.
    public func check(ranksInProcess: Int, ranksOnHost: Int, limits: [Limit], resident: Int, addressSpace: Int) throws {
        let (added, overflow) = addedBytes.multipliedReportingOverflow(by: max(1, ranksInProcess))
        for limit in limits.sorted(by: { $0.bytes < $1.bytes }) {  // the tightest one named
            let inUse = limit.addressSpace ? addressSpace : resident
            let share = limit.addressSpace ? limit.bytes : limit.bytes / max(1, ranksOnHost / max(1, ranksInProcess))
            if overflow || added > share - min(share, inUse) {
                let sharedBy =
                    !limit.addressSpace && ranksOnHost > ranksInProcess
                    ? " shared by \(ranksOnHost / max(1, ranksInProcess)) processes on this host" : ""
                throw RunError(
                    "the run needs about \(Self.format(overflow ? Int.max : added)) more memory per process (\(breakdown)), "
                        + "beyond \(Self.format(inUse)) in use, but the limit is \(Self.format(limit.bytes)) (\(limit.source))\(sharedBy): "
                        + "lower islands.population, the network's size or islands per rank (more ranks, on more machines)"
                )
            }
        }
    }

    /// This machine's limits: `ulimit -v`, the cgroup's `memory.max`, the physical memory.
    public static func limits() -> [Limit] {
        var result: [Limit] = []
        var rl = rlimit()
        if getrlimit(rlimitAddressSpace, &rl) == 0, rl.rlim_cur < UInt64(Int.max) {
            result.append(
                Limit(bytes: Int(rl.rlim_cur), source: "ulimit -v \(rl.rlim_cur / 1024), RLIMIT_AS", addressSpace: true)
            )
        }
        if let (bytes, path) = cgroupMemoryMax() {
            result.append(Limit(bytes: bytes, source: "cgroup \(path)", addressSpace: false))
        }
        if let bytes = meminfo("MemTotal") {
            result.append(Limit(bytes: bytes, source: "physical memory, /proc/meminfo MemTotal", addressSpace: false))
        }
        return result
    }

    /// This process's resident set and address space in bytes (`/proc/self/statm`).
    public static func processBytes() -> (resident: Int, addressSpace: Int) {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return (0, 0) }
        let pages = text.split(separator: " ").compactMap { Int($0) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard pages.count >= 2 else { return (0, 0) }
        return (pages[1] * page, pages[0] * page)
    }

    /// Ranks on this host as the launcher announces them (Open MPI, Slurm), else 1.
    public static func launcherRanksOnHost() -> Int {
        let environment = ProcessInfo.processInfo.environment
        if let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap({ Int($0) }), local > 0 { return local }
        if let tasks = environment["SLURM_STEP_NUM_TASKS"].flatMap({ Int($0) }),
            let nodes = environment["SLURM_STEP_NUM_NODES"].flatMap({ Int($0) }), tasks > 0, nodes > 0
        {
            return (tasks + nodes - 1) / nodes
        }
        return 1
    }

    /// The check of a run's start or resume, on this rank.
    static func check(config: RunConfig, network: Network, communicator: any Communicator) throws {
        let estimate = try MemoryEstimate(
            config: config, parameterCount: network.parameterCount, rankCount: communicator.size)
        let threads = communicator is LocalCommunicator ? communicator.size : 1
        let now = processBytes()
        try estimate.check(
            ranksInProcess: threads, ranksOnHost: threads * launcherRanksOnHost(), limits: limits(),
            resident: now.resident, addressSpace: now.addressSpace)
    }

    /// `bytes` in MB / GB with one decimal (decimal units).
    public static func format(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= 1e12 { return String(format: "%.1f TB", b / 1e12) }
        if b >= 1e9 { return String(format: "%.1f GB", b / 1e9) }
        return String(format: "%.0f MB", b / 1e6)
    }

    private static func meminfo(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kB = Int(fields[1]) { return kB * 1024 }
        }
        return nil
    }

    /// The tightest `memory.max` (cgroup v2) of this process's cgroup and its parents.
    private static func cgroupMemoryMax() -> (Int, String)? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        var path = String(line.dropFirst(3))
        var best: (Int, String)?
        while true {
            let file = "/sys/fs/cgroup" + (path == "/" ? "" : path) + "/memory.max"
            if let value = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines),
                let bytes = Int(value), best.map({ bytes < $0.0 }) ?? true
            {
                best = (bytes, file)
            }
            if path == "/" || path.isEmpty { break }
            path = (path as NSString).deletingLastPathComponent
        }
        return best
    }
}

#if os(Linux)
    private let rlimitAddressSpace = __rlimit_resource_t(RLIMIT_AS.rawValue)
#else
    private let rlimitAddressSpace = RLIMIT_AS
#endif
