import ArgumentParser
import CBLAS
import Collectives
import Foundation

/// `atoll info`: what each rank runs on — Atoll, MPI, OpenBLAS, the machine.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show Atoll's version, the MPI library, each rank's host, OpenBLAS and the cores.",
        discussion: "Under mpirun every rank reports; rank 0 prints all reports in rank order."
    )

    func run() throws {
        let comm = MPICommunicator()
        let runtime = MPIRuntime.shared
        let report = """
            rank \(comm.rank) of \(comm.size) on \(runtime.processorName) (pid \(getpid()))
              atoll:    \(Atoll.version)
              MPI:      \(runtime.libraryVersion.split(separator: "\n").joined(separator: "; "))
              OpenBLAS: core \(String(cString: openblas_get_corename())), \(openblas_get_num_threads()) thread(s), \
            \(String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces))
              cores:    \(ProcessInfo.processInfo.activeProcessorCount) active of \(ProcessInfo.processInfo.processorCount)
            """
        let reports = try comm.allgatherStrings(report)
        if comm.rank == 0 {
            print(reports.joined(separator: "\n"))
        }
    }
}
