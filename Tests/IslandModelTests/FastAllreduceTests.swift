import Collectives
import Foundation
import Testing

@testable import IslandModel

/// `allreduce: fast` (float `MPI_SUM` of the meta-learner's gradients instead of the exact sum).
@Suite("Fast allreduce", .serialized)
struct FastAllreduceTests {
    @Test(
        "a latent run with allreduce: fast trains on 2 ranks, enters the latent phase and ends with the same meta-learner on every rank"
    )
    func fastLatentRun() throws {
        var config = try RunConfig.parse(RunTests.tinyLatent)
        config.allreduce = .fast
        let directory = RunTests.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunTests.run(config, ranks: 2, in: directory)
        let meta = try String(decoding: RunTests.bytes(directory, "meta.jsonl"), as: UTF8.self).split(separator: "\n")
        #expect(meta.count == 3, "training rounds after generations 2, 4 and 6")
        let metrics = try String(decoding: RunTests.bytes(directory, "metrics.jsonl"), as: UTF8.self)
        #expect(metrics.contains("\"phase\":\"latent\""))
        // Both ranks compared parameter checksums every step (checksum_every: 1); a divergence would
        // have stopped the run. The run's own record says which sum it used.
        #expect(
            try String(decoding: RunTests.bytes(directory, "config.yaml"), as: UTF8.self).contains("allreduce: fast"))
    }
}
