import Collectives

/// `text` as one shell word: unchanged when it holds only characters no shell treats specially,
/// else in single quotes (a quote inside as `'\''`), so a printed command can be pasted as it is.
func shellQuoted(_ text: String) -> String {
    let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-=:,+@%")
    if !text.isEmpty && text.allSatisfy(plain.contains) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Runs `body` on every rank and shares failures: if it throws on any rank, every rank throws the
/// first rank's error, so no rank is left waiting in a collective for one that gave up.
func agree<R>(_ communicator: any Communicator, _ body: () throws -> R) throws -> R {
    var result: R?
    var failure = ""
    do {
        result = try body()
    } catch {
        failure = "\(error)"
    }
    let failures = try communicator.allgatherStrings(failure)
    if let first = failures.firstIndex(where: { !$0.isEmpty }) {
        let sameEverywhere = failures.allSatisfy { $0 == failures[first] }
        throw RunError(sameEverywhere ? failures[first] : "rank \(first): \(failures[first])", sharedByAllRanks: true)
    }
    return result!
}

/// Rank 0's value of `rank0`, on every rank.
func agreedValue(_ communicator: any Communicator, rank0: Int) throws -> Int {
    var value = [Int64(rank0)]
    try communicator.broadcast(&value, root: 0)
    return Int(value[0])
}
