import Foundation

extension RunSummary {
    /// The summary as a table of figures with their units.
    public func table() -> String {
        var rows: [(String, String)] = [
            ("generations", "\(generations) (stopped by \(stopReason))"),
            ("best fitness (\(fitnessName))", String(format: "%.6g (island %d)", bestFitness, bestIsland)),
        ]
        if let trainAccuracy { rows.append(("train accuracy (all samples)", String(format: "%.4f", trainAccuracy))) }
        if let testAccuracy { rows.append(("test accuracy", String(format: "%.4f", testAccuracy))) }
        rows += [
            ("evaluations", "\(evaluations)"),
            ("wall time", String(format: "%.1f s", wallSeconds)),
            (
                "peak memory per rank",
                peakMemoryMiB.enumerated().map { String(format: "rank %d: %.0f MiB", $0.offset, $0.element) }.joined(
                    separator: ", ")
            ),
            ("BLAS", blas),
            ("results", directory),
        ]
        let width = rows.map(\.0.count).max()!
        return "\nAtoll run summary\n"
            + rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(
                separator: "\n") + "\n"
    }
}
