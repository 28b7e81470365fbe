import IslandModel
import Testing

@Suite("IslandPlacement")
struct IslandPlacementTests {
    @Test(
        "contiguous blocks, first ranks take the remainder, rank(of:) inverts islands(of:)",
        arguments: [(1, 1), (4, 1), (4, 2), (4, 4), (7, 3), (10, 4), (16, 5)])
    func blocks(islands: Int, ranks: Int) throws {
        let placement = try IslandPlacement(islandCount: islands, rankCount: ranks)
        var next = 0
        for r in 0..<ranks {
            let mine = placement.islands(of: r)
            #expect(mine.lowerBound == next)
            #expect(mine.count == islands / ranks + (r < islands % ranks ? 1 : 0))
            for i in mine { #expect(placement.rank(of: i) == r) }
            next = mine.upperBound
        }
        #expect(next == islands)
    }

    @Test("more ranks than islands is an error that says so")
    func tooManyRanks() {
        #expect(throws: PlacementError.self) { try IslandPlacement(islandCount: 2, rankCount: 4) }
        do {
            _ = try IslandPlacement(islandCount: 2, rankCount: 4)
        } catch {
            #expect("\(error)".contains("launched 4 ranks for 2 islands"))
        }
    }
}
