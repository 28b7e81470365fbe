import Foundation
import Kernels
import Networks

/// The package's root folder (tests run from the source tree).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// `data/digits.csv.gz` in the package.
let digitsPath = packageRoot.appendingPathComponent("data/digits.csv.gz").path

/// A small seeded population of `network` genomes (PyTorch default initialisation).
func population(_ network: Network, size: Int, seed: UInt64 = 1) -> [Float] {
    var stream = RandomStream(seed: seed, purpose: "test-population")
    var genomes: [Float] = []
    for _ in 0..<size { genomes += network.initializedGenome(stream: &stream) }
    return genomes
}

/// Writes `text` to a fresh temporary file and returns its path.
func temporaryFile(_ text: String, name: String = "data.csv") throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atoll-tasks-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
