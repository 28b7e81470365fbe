import ArgumentParser
import Collectives
import Foundation

/// `atoll bench collectives`: float `MPI_SUM` allreduce against `ReproducibleAllreduce`.
struct BenchCollectives: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collectives",
        abstract: "Time float allreduce against the reproducible (fixed-point) allreduce.",
        discussion: """
            The int64 column is the integer allreduce the reproducible sum is built on (twice the bytes \
            of the float one). For each size, every call is preceded by a barrier and timed on every rank; a call's time \
            is the slowest rank's. Prints the median of --repeats calls after --warmup calls. Run under \
            mpirun (mpirun -np 2 atoll bench collectives) to measure communication between ranks.
            """
    )

    @Option(help: "Buffer sizes in floats, comma-separated.")
    var sizes: String = "1024,65536,1048576"

    @Option(help: "Timed calls per size.")
    var repeats: Int = 30

    @Option(help: "Untimed calls per size before timing.")
    var warmup: Int = 3

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        guard parsedSizes != nil else { throw ValidationError("--sizes must be positive integers separated by commas") }
    }

    private var parsedSizes: [Int]? {
        let values = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        let comm = MPICommunicator()
        if comm.rank == 0 {
            print(
                "allreduce of Float buffers on \(comm.size) rank(s); median of \(repeats) calls after \(warmup) warm-up, slowest rank per call"
            )
            print(
                pad("floats", 10) + pad("float sum (µs)", 18) + pad("int64 sum (µs)", 18) + pad("reproducible (µs)", 20)
                    + pad("ratio", 8) + "reproducible GB/s")
        }
        for n in parsedSizes! {
            var data = (0..<n).map { Float(($0 * 7919 + comm.rank * 31) % 1000) * 1e-3 - 0.5 }
            let plain = try timeCalls(comm) { try comm.allreduce(&data, op: .sum) }
            var integers = [Int64](repeating: 1, count: n)
            let integer = try timeCalls(comm) { try comm.allreduce(&integers, op: .sum) }
            let scratch = ReproducibleAllreduce.Scratch()
            let exact = try timeCalls(comm) {
                try ReproducibleAllreduce.sum(&data, communicator: comm, scratch: scratch)
            }
            if comm.rank == 0 {
                let gbps = Double(n * 4) / exact / 1e9
                print(
                    pad("\(n)", 10) + pad(String(format: "%.1f", plain * 1e6), 18)
                        + pad(String(format: "%.1f", integer * 1e6), 18) + pad(String(format: "%.1f", exact * 1e6), 20)
                        + pad(String(format: "%.2f", exact / plain), 8) + String(format: "%.2f", gbps))
            }
        }
    }

    /// Median over `repeats` calls of the slowest rank's time for one call, in seconds.
    private func timeCalls(_ comm: MPICommunicator, _ call: () throws -> Void) throws -> Double {
        for _ in 0..<warmup { try call() }
        var times: [Double] = []
        for _ in 0..<repeats {
            try comm.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            try call()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        try comm.allreduce(&times, op: .max)
        times.sort()
        return times[times.count / 2]
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
