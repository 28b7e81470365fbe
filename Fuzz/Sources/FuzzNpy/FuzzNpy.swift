import Foundation
import Networks

/// libFuzzer entry: the input as the bytes of a `.npy` file (`NpyFile.decode`, what
/// `NpyFile.read(path:)` runs on the file's contents). A thrown error is a correct answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? NpyFile.decode(Data(bytes: data, count: size))
    return 0
}
