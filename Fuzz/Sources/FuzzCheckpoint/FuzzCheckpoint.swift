import Foundation

@testable import IslandModel

/// One configuration per kind of island algorithm state a checkpoint can hold (GA, SNES, SNES in
/// the anchored latent space, CMA-ES, sep-CMA-ES): each decodes its own kind.
private let configs: [RunConfig] = {
    var ga = RunConfig()
    ga.evolution.algorithm = .ga
    var snes = ga
    snes.evolution.algorithm = .snes
    var anchored = snes
    anchored.latent.enabled = true
    anchored.latent.mode = .anchored
    var cmaes = ga
    cmaes.evolution.algorithm = .cmaes
    var sepCMAES = ga
    sepCMAES.evolution.algorithm = .sepCMAES
    return [ga, snes, anchored, cmaes, sepCMAES]
}()

/// libFuzzer entry: the input as each file of a checkpoint folder, as a resume reads them: an
/// island file (`Island(reading:source:readSearch:)` with each kind of algorithm state),
/// `run.json` (`RunState`) and `manifest.json` (`CheckpointStore.Manifest`). A thrown error is a
/// correct answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let contents = Data(bytes: data, count: size)
    for config in configs {
        _ = try? Island(reading: contents, source: "island-00000.bin", readSearch: config.readIslandSearch)
    }
    _ = try? RunState.decoder.decode(RunState.self, from: contents)
    _ = try? JSONDecoder().decode(CheckpointStore.Manifest.self, from: contents)
    return 0
}
