import Foundation
import Networks

/// libFuzzer entry: the input as the bytes of a safetensors file (`SafeTensors.decode`, what
/// `SafeTensors.read(path:)` runs on the file's contents). A thrown error is a correct answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? SafeTensors.decode(Data(bytes: data, count: size))
    return 0
}
