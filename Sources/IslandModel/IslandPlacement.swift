/// Which islands each rank hosts: `islandCount` logical islands in contiguous blocks over
/// `rankCount` ranks, the first `islandCount mod rankCount` ranks taking one island more.
///
/// Islands are logical: every random stream is keyed by island, never by rank, so moving an island
/// to another rank (a resume on another rank count) does not change its numbers.
public struct IslandPlacement: Equatable, Sendable {
    public let islandCount: Int
    public let rankCount: Int

    /// - Throws: `PlacementError` when there are more ranks than islands (a rank would idle) or
    ///   either count is below one.
    public init(islandCount: Int, rankCount: Int) throws {
        guard islandCount >= 1 else { throw PlacementError("islands.count must be at least 1, got \(islandCount)") }
        guard rankCount >= 1 else { throw PlacementError("at least one rank is needed, got \(rankCount)") }
        guard rankCount <= islandCount else {
            throw PlacementError(
                "launched \(rankCount) ranks for \(islandCount) islands: every rank needs at least one island; "
                    + "launch at most \(islandCount) ranks or raise islands.count")
        }
        self.islandCount = islandCount
        self.rankCount = rankCount
    }

    /// The islands rank `rank` hosts, in increasing order.
    public func islands(of rank: Int) -> Range<Int> {
        let base = islandCount / rankCount
        let extra = islandCount % rankCount
        let start = rank * base + min(rank, extra)
        return start..<start + base + (rank < extra ? 1 : 0)
    }

    /// The rank hosting `island`.
    public func rank(of island: Int) -> Int {
        let base = islandCount / rankCount
        let extra = islandCount % rankCount
        let boundary = extra * (base + 1)
        return island < boundary ? island / (base + 1) : extra + (island - boundary) / base
    }
}

/// Islands that cannot be placed on the launched ranks, with the reason.
public struct PlacementError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
