import Dispatch

/// Runs `body(row)` for every row in `0 ..< rows`: on all cores once the rows hold at least 2¹⁶
/// genes in all (below that, threads cost more than they save), else one after the other. Each
/// call must write only its own row, so the result is the same either way.
func forEachRow(_ rows: Int, genesPerRow: Int, _ body: (Int) -> Void) {
    if rows * genesPerRow >= 1 << 16 {
        DispatchQueue.concurrentPerform(iterations: rows, execute: body)
    } else {
        for row in 0..<rows { body(row) }
    }
}
