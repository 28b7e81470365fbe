import Collectives
import Foundation

/// What a run ran on, as `environment.json` in the run folder: Atoll's version, the MPI library,
/// the operating system, and each rank's host. Written at the end of `atoll run` and `atoll
/// resume`; the report shows it.
public struct RunEnvironment: Codable, Equatable, Sendable {
    public struct RankHost: Codable, Equatable, Sendable {
        public var rank: Int
        public var host: String
        /// Cores the rank's process could use.
        public var cores: Int
    }

    public var atollVersion: String
    /// `MPI_Get_library_version`, or `nil` when the ranks were threads of one process.
    public var mpiLibrary: String?
    public var operatingSystem: String
    public var ranks: [RankHost]

    enum CodingKeys: String, CodingKey {
        case atollVersion = "atoll_version"
        case mpiLibrary = "mpi_library"
        case operatingSystem = "operating_system"
        case ranks
    }

    public init(atollVersion: String, mpiLibrary: String?, operatingSystem: String, ranks: [RankHost]) {
        self.atollVersion = atollVersion
        self.mpiLibrary = mpiLibrary
        self.operatingSystem = operatingSystem
        self.ranks = ranks
    }

    /// Collects every rank's host name (a collective: every rank calls it).
    ///
    /// - Parameters:
    ///   - mpiLibrary: the MPI library's version text, `nil` for threads of one process.
    public static func gather(communicator: any Communicator, atollVersion: String, mpiLibrary: String?) throws
        -> RunEnvironment
    {
        let mine = "\(ProcessInfo.processInfo.hostName)\t\(ProcessInfo.processInfo.activeProcessorCount)"
        let ranks = try communicator.allgatherStrings(mine).enumerated().map { rank, text -> RankHost in
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false)
            return RankHost(rank: rank, host: String(fields[0]), cores: fields.count > 1 ? Int(fields[1]) ?? 0 : 0)
        }
        let os = ProcessInfo.processInfo.operatingSystemVersionString
        return RunEnvironment(atollVersion: atollVersion, mpiLibrary: mpiLibrary, operatingSystem: os, ranks: ranks)
    }

    /// Writes `environment.json` into `directory`.
    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
    }

    public static let fileName = "environment.json"
}
