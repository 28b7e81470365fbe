import Foundation
import Tasks

/// libFuzzer entry: the input as the contents of a CSV file, plain or gzipped, with and without a
/// header row (`CSVTable(contents:path:hasHeader:)`); a table that parses is then made into a
/// classification and a regression dataset on its last column, as a `csv` task does. A thrown
/// error is a correct answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let contents = Data(bytes: data, count: size)
    for hasHeader in [true, false] {
        guard let table = try? CSVTable(contents: contents, path: "fuzz.csv", hasHeader: hasHeader) else { continue }
        for kind in CSVDataset.Kind.allCases {
            _ = try? CSVDataset.make(from: table, target: nil, kind: kind)
        }
    }
    return 0
}
