import Collectives
import Evolution
import Foundation
import Networks
import Tasks
import Testing

@testable import IslandModel

/// Migration along topologies, within a rank and across ranks: an elite planted on island 0
/// spreads one hop per migration, and never crosses an unconnected archipelago.
@Suite("Migration")
struct MigrationTests {
    static let eliteID: UInt64 = 999_999

    /// After each of `migrations` migrations, the islands holding the planted elite.
    static func spread(topology: String, ranks: Int, migrations: Int) throws -> [Set<Int>] {
        let config = try RunConfig.parse(
            """
            network: mlp:64-4-10
            islands: {count: 4, population: 5}
            topology: \(topology)
            migration: {count: 1, emigrants: best, immigrants: worst}
            """)
        let perRank = try LocalCommunicator.run(size: ranks) { comm -> [[Int]] in
            let network = try Network(spec: config.network.spec())
            let task = try TaskCatalog.make("digits")
            let placement = try IslandPlacement(islandCount: 4, rankCount: ranks)
            let islands = placement.islands(of: comm.rank).map { index -> Island in
                var population = Population(count: 5, dimension: network.parameterCount)
                population.fitness = [1, 2, 3, 4, 5]
                population.ids = (0..<5).map { UInt64(index * 10 + $0) }
                if index == 0 {
                    population.fitness[2] = 100
                    population.ids[2] = eliteID
                }
                return Island(index: index, population: population, algorithm: GeneticAlgorithm())
            }
            let archipelago = try Archipelago(
                config: config, communicator: comm, network: network, task: task, islands: islands)
            var seen: [[Int]] = []
            for generation in 1...migrations {
                try archipelago.migrate(generation: generation)
                seen.append(archipelago.islands.filter { $0.population.ids.contains(eliteID) }.map(\.index))
            }
            return seen
        }
        return (0..<migrations).map { m in Set(perRank.flatMap { $0[m] }) }
    }

    @Test("a bidirectional ring of 4 reaches every island in 2 migrations, on 1, 2 and 4 ranks", arguments: [1, 2, 4])
    func ring(ranks: Int) throws {
        let spread = try Self.spread(topology: "{kind: ring}", ranks: ranks, migrations: 3)
        #expect(spread == [[0, 1, 3], [0, 1, 2, 3], [0, 1, 2, 3]])
    }

    @Test("a one-way ring of 4 needs 3 migrations")
    func oneWayRing() throws {
        let spread = try Self.spread(topology: "{kind: ring, bidirectional: false}", ranks: 2, migrations: 3)
        #expect(spread == [[0, 1], [0, 1, 2], [0, 1, 2, 3]])
    }

    @Test("unconnected islands never receive the elite")
    func unconnected() throws {
        let spread = try Self.spread(topology: "{kind: unconnected}", ranks: 2, migrations: 5)
        #expect(spread.allSatisfy { $0 == [0] })
    }

    @Test("an edge with probability p fires in about p of the migrations")
    func probabilisticEdges() throws {
        let config = try RunConfig.parse(
            "topology: {kind: edges, edges: [{source: 0, destination: 1, probability: 0.3}]}")
        let network = try Network(spec: config.network.spec())
        let task = try TaskCatalog.make("digits")
        let comm = LocalCommunicator.makeWorld(size: 1)[0]
        let islands = (0..<4).map {
            Island(
                index: $0, population: Population(count: 32, dimension: network.parameterCount),
                algorithm: GeneticAlgorithm())
        }
        let archipelago = try Archipelago(
            config: config, communicator: comm, network: network, task: task, islands: islands)
        let edge = archipelago.topology.edges[0]
        let fired = (1...2000).filter { archipelago.migration.fires(edge, generation: $0) }.count
        #expect(abs(Double(fired) / 2000 - 0.3) < 0.04)
    }

    /// Edges that fire by chance, crossing ranks or not: the elite's path over 12 migrations is the
    /// same on 1, 2 and 4 ranks, and it does get somewhere and not everywhere at once.
    @Test("probabilistic edges move the same migrants on 1, 2 and 4 ranks")
    func probabilisticEdgesAcrossRanks() throws {
        let topology =
            "{kind: edges, edges: [{source: 0, destination: 1, probability: 0.4}, {source: 1, destination: 2, probability: 0.4}, {source: 2, destination: 3, probability: 0.4}]}"
        let spreads = try [1, 2, 4].map { try Self.spread(topology: topology, ranks: $0, migrations: 12) }
        #expect(spreads[1] == spreads[0])
        #expect(spreads[2] == spreads[0])
        #expect(spreads[0].first!.count < 4)
        #expect(spreads[0].last!.count > 1)
    }
}
