import Collectives
import Evolution
import Foundation
import Kernels

/// pagmo2's migration for one archipelago: which edges of the topology fire in a generation, which
/// individuals leave (the selection policy, `migration.emigrants`), and where arrivals go (the
/// replacement policy, `migration.immigrants`), within a rank by copy and across ranks by one
/// `exchange` of messages in `ByteWriter`'s population layout.
///
/// Every rank holds the same `Migration`; an edge fires by a draw from the destination island's
/// stream, so sender and receiver agree without a message, and the moves are the same whichever
/// ranks host the islands.
struct Migration {
    let topology: Topology
    let placement: IslandPlacement
    let settings: MigrationSection
    let seed: UInt64
    /// Genomes per message.
    let emigrantCount: Int

    /// Whether the edge carries migrants in `generation` (drawn from the destination's stream, so
    /// sender and receiver agree without a message).
    func fires(_ edge: Topology.Edge, generation: Int) -> Bool {
        MigrationSchedule.fires(edge, seed: seed, generation: generation)
    }

    /// Migration after `generation`: each of `islands`' (this rank's) emigrants go along every
    /// firing edge; islands on this rank receive by copy, others by one `exchange` of all messages.
    /// Arrivals are placed in edge order (by source) with the configured replacement policy.
    ///
    /// - Returns: bytes this rank sent to other ranks.
    @discardableResult
    /// In weight space (`weightSpace`) an immigrant better than an island's best so far becomes
    /// its best (so `best_ever` never lies below the population's best); latents are not genomes.
    func move(_ islands: inout [Island], generation: Int, weightSpace: Bool, communicator: any Communicator) throws
        -> Int
    {
        let firing = topology.edges.filter { fires($0, generation: generation) }
        guard !firing.isEmpty, emigrantCount > 0 else { return 0 }
        let me = communicator.rank
        var slot: [Int: Int] = [:]
        for (k, island) in islands.enumerated() { slot[island.index] = k }

        // Emigrants of every local island that sends, chosen before anyone receives.
        var outgoing: [Int: [UInt8]] = [:]
        for edge in firing where slot[edge.source] != nil && outgoing[edge.source] == nil {
            let island = islands[slot[edge.source]!]
            var stream = RandomStream(seed: seed, island: island.index, generation: generation, purpose: "emigrants")
            let emigrants = island.migrants(
                settings.emigrants.emigrants(of: island.population, count: emigrantCount, stream: &stream))
            var writer = ByteWriter()
            writer.append(emigrants)
            outgoing[edge.source] = [UInt8](writer.bytes)
        }

        // Remote messages: one receive buffer per incoming remote edge, in edge order.
        let messageSize = Self.messageSize(count: emigrantCount, dimension: islands[0].migrantDimension)
        let remoteIn = firing.filter { slot[$0.destination] != nil && placement.rank(of: $0.source) != me }
        let remoteOut = firing.filter { slot[$0.source] != nil && placement.rank(of: $0.destination) != me }
        var inbox = [UInt8](repeating: 0, count: remoteIn.count * messageSize)
        var sentBytes = 0
        try withBufferViews(remoteOut.map { outgoing[$0.source]! }) { views in
            try inbox.withUnsafeMutableBufferPointer { box in
                let sends = zip(remoteOut, views).map {
                    OutgoingMessage(to: placement.rank(of: $0.0.destination), tag: 1, values: $0.1)
                }
                let receives = remoteIn.indices.map { i in
                    IncomingMessage(
                        from: placement.rank(of: remoteIn[i].source), tag: 1,
                        into: UnsafeMutableBufferPointer(rebasing: box[i * messageSize..<(i + 1) * messageSize]))
                }
                try communicator.exchange(sends: sends, receives: receives)
            }
            sentBytes = views.reduce(0) { $0 + $1.count }
        }

        // Place arrivals island by island, sources in edge order.
        var remoteIndex = 0
        for edge in firing where slot[edge.destination] != nil {
            let bytes: [UInt8]
            if placement.rank(of: edge.source) == me {
                bytes = outgoing[edge.source]!
            } else {
                bytes = Array(inbox[remoteIndex * messageSize..<(remoteIndex + 1) * messageSize])
                remoteIndex += 1
            }
            var reader = ByteReader(bytes, source: "migrants from island \(edge.source)")
            let immigrants = try reader.readPopulation()
            let k = slot[edge.destination]!
            islands[k].receive(immigrants, replacement: settings.immigrants.policy)
            islands[k].bytesReceived += bytes.count
            if weightSpace { islands[k].history.consider(immigrants) }
        }
        return sentBytes
    }

    /// Bytes of a migration message of `count` genomes of `dimension` genes: the size of such a
    /// population as `ByteWriter` encodes it (the codec the messages use), measured on an empty one.
    static func messageSize(count: Int, dimension: Int) -> Int {
        var writer = ByteWriter()
        writer.append(Population(count: count, dimension: dimension))
        return writer.bytes.count
    }
}
