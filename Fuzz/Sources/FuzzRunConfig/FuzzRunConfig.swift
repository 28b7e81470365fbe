import Foundation
import IslandModel
import Networks

/// Relative network paths resolve against a folder that does not exist, so the fuzzer reads no
/// file for them.
private let baseDirectory = URL(fileURLWithPath: "/nonexistent/atoll-fuzz")

/// libFuzzer entry: the input as the text of a run config (`RunConfig.parse`, what
/// `RunConfig.load(path:)` runs on the file's text): YAML decoding, the network spec and every
/// validation; then, for a valid config, the network's layout and the memory estimate. A thrown
/// error is a correct answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // A valid config goes on to what a run checks before allocating: the network's layout and
    // the memory estimate (checked arithmetic on every size).
    if let config = try? RunConfig.parse(text, baseDirectory: baseDirectory),
       let network = try? Network(spec: config.network.spec()) {
        _ = try? MemoryEstimate(config: config, parameterCount: network.parameterCount, rankCount: 1)
    }
    return 0
}
