import IslandModel
import Testing

@Suite("Topology")
struct TopologyTests {
    @Test("a bidirectional ring of 4 links each island to both neighbours; an elite reaches all in 2 hops")
    func ring() throws {
        let ring = try Topology.ring(4)
        #expect(ring.edges.count == 8)
        #expect(ring.sources(of: 0).map(\.source) == [1, 3])
        #expect(ring.hops(from: 0) == [0, 1, 2, 1])
        let oneWay = try Topology.ring(4, bidirectional: false)
        #expect(oneWay.sources(of: 0).map(\.source) == [3])
        #expect(oneWay.hops(from: 0) == [0, 1, 2, 3])
        #expect(try Topology.ring(2).edges.count == 2)
        #expect(try Topology.ring(1).edges.isEmpty)
    }

    @Test("fully connected: every other island in one hop")
    func fullyConnected() throws {
        let full = try Topology.fullyConnected(5)
        #expect(full.edges.count == 20)
        #expect(full.hops(from: 3) == [1, 1, 1, 0, 1])
    }

    @Test("a 3×4 torus gives each island four neighbours with wrap-around")
    func torus() throws {
        let torus = try Topology.torus(rows: 3, columns: 4)
        #expect(torus.islandCount == 12)
        #expect(torus.sources(of: 0).map(\.source) == [1, 3, 4, 8])
        #expect(torus.hops(from: 0).compactMap { $0 }.max() == 3)  // 1 row + 2 columns away
        // Degenerate tori keep distinct neighbours only.
        #expect(try Topology.torus(rows: 1, columns: 2).edges.count == 2)
    }

    @Test("unconnected islands never receive migrants")
    func unconnected() throws {
        let alone = try Topology.unconnected(4)
        #expect(alone.edges.isEmpty)
        #expect(alone.hops(from: 0) == [0, nil, nil, nil])
    }

    @Test("free-form edges are validated and sorted by destination")
    func freeForm() throws {
        let t = try Topology(
            islandCount: 3,
            edges: [
                .init(source: 2, destination: 0, probability: 0.5), .init(source: 0, destination: 1),
                .init(source: 1, destination: 0),
            ])
        #expect(t.edges.map { [$0.destination, $0.source] } == [[0, 1], [0, 2], [1, 0]])
        #expect(throws: TopologyError.self) { try Topology(islandCount: 3, edges: [.init(source: 0, destination: 3)]) }
        #expect(throws: TopologyError.self) { try Topology(islandCount: 3, edges: [.init(source: 1, destination: 1)]) }
        #expect(throws: TopologyError.self) {
            try Topology(islandCount: 3, edges: [.init(source: 0, destination: 1, probability: 0)])
        }
        #expect(throws: TopologyError.self) {
            try Topology(
                islandCount: 3,
                edges: [.init(source: 0, destination: 1), .init(source: 0, destination: 1, probability: 0.3)])
        }
    }
}
