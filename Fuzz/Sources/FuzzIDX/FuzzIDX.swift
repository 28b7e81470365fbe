import Foundation
import Tasks

/// libFuzzer entry: the input as the contents of an IDX file, plain or gzipped, read both as a
/// labels file and as an images file (`IDXFile(contents:path:magic:)`, what `IDXFile(path:magic:)`
/// runs on the file's contents). A thrown error is a correct answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let contents = Data(bytes: data, count: size)
    for magic in [IDXFile.labelsMagic, IDXFile.imagesMagic] {
        _ = try? IDXFile(contents: contents, path: "fuzz.idx", magic: magic)
    }
    return 0
}
