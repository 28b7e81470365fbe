import ArgumentParser
import CBLAS
import Collectives
import Foundation
import IslandModel

/// `atoll info`: what each rank runs on — Atoll, MPI, OpenBLAS, the machine.
struct Info: ParsableCommand {
    /// A note when OpenBLAS fell back to its generic kernels on a CPU with AVX2 or AVX-512 (it does
    /// not recognise some virtual CPUs), with the setting that fixes it.
    static func kernelAdvice() -> String {
        let core = String(cString: openblas_get_corename()).lowercased()
        guard core == "prescott" || core == "core2" || core == "nehalem",
            let flags = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        else { return "" }
        let suggestion = flags.contains(" avx512bw") ? "SkylakeX" : flags.contains(" avx2") ? "Haswell" : nil
        guard let suggestion else { return "" }
        return
            "\n  note:     this CPU has \(suggestion == "SkylakeX" ? "AVX-512" : "AVX2") but OpenBLAS uses its generic "
            + "\(core) kernels; OPENBLAS_CORETYPE=\(suggestion) (deploy/env/openblas.env) makes GEMM several times faster"
    }

    static let configuration = CommandConfiguration(
        abstract: "Show Atoll's version, the MPI library, each rank's host, OpenBLAS and the cores.",
        discussion: """
            Under mpirun every rank reports; rank 0 prints all reports in rank order. A run needs the \
            same OpenBLAS core on every rank (atoll run refuses a mix): the same bits need the same kernels.
            """
    )

    func run() throws {
        let comm = MPICommunicator()
        let runtime = MPIRuntime.shared
        let blas = BLASKernel.current
        let report = """
            rank \(comm.rank) of \(comm.size) on \(runtime.processorName) (pid \(getpid()))
              atoll:    \(Atoll.version)
              MPI:      \(runtime.libraryVersion.split(separator: "\n").joined(separator: "; "))
              OpenBLAS: core \(blas.core), \(openblas_get_num_threads()) thread(s), \(blas.build), \(blas.library)
              cores:    \(ProcessInfo.processInfo.activeProcessorCount) active of \(ProcessInfo.processInfo.processorCount)
            """
        let reports = try comm.allgatherStrings(report + Self.kernelAdvice())
        if comm.rank == 0 {
            print(reports.joined(separator: "\n"))
        }
    }
}
