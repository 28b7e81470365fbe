import Collectives
import Foundation
import IslandModel
import Reports

/// What `atoll run` and `atoll resume` do once the run has ended: every rank tells rank 0 its
/// host, and rank 0 writes `environment.json` and `report.html` into the run folder and says where
/// the report is. A report that cannot be written is a warning, not a failed run: the results are
/// already on disk.
enum RunFolderReport {
    /// Call on every rank (the host names are gathered).
    static func write(folder: URL, communicator: any Communicator, options: Run.Options, runEnded: Bool) throws {
        let environment: RunEnvironment? =
            runEnded
            ? try RunEnvironment.gather(
                communicator: communicator, atollVersion: Atoll.version,
                mpiLibrary: communicator is MPICommunicator ? MPIRuntime.shared.libraryVersion : nil)
            : nil
        guard communicator.rank == 0 else { return }
        do {
            try environment?.write(to: folder)
            let url = try RunReport.write(directory: folder, generator: "atoll \(Atoll.version)")
            options.output("Report: \(url.path)\n")
        } catch {
            options.warn("no report written: \(error)")
        }
    }
}
