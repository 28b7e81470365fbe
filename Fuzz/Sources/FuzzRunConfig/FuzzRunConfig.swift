import Foundation
import IslandModel

/// Relative network paths resolve against a folder that does not exist, so the fuzzer reads no
/// file for them.
private let baseDirectory = URL(fileURLWithPath: "/nonexistent/atoll-fuzz")

/// libFuzzer entry: the input as the text of a run config (`RunConfig.parse`, what
/// `RunConfig.load(path:)` runs on the file's text): YAML decoding, the network spec and every
/// validation. A thrown error is a correct answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? RunConfig.parse(text, baseDirectory: baseDirectory)
    return 0
}
