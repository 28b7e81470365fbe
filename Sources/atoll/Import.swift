import ArgumentParser
import Foundation
import Networks

/// `atoll import`: a safetensors file with PyTorch's names (e.g. `safetensors.torch.save_file(
/// model.state_dict(), path)`) to a flat float32 genome.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a safetensors file with PyTorch's names into a flat float32 .npy genome.",
        discussion: """
            Every parameter of the network must be present under its nn.Sequential name with its \
            shape ("0.weight" [out, in], "0.bias" [out], conv weights [out, in, k, k]) and no \
            other tensor; F32, F64, F16 and BF16 are read and stored as float32. The .npy is \
            version 1.0, '<f4', one-dimensional, in parameter-layout order.

            Example: atoll import --network net.yaml --weights model.safetensors --out genome.npy
            """
    )

    @Option(help: "The network: a YAML or JSON spec file, or the shorthand mlp:64-32-10[:activation].")
    var network: String

    @Option(help: "The safetensors file to read.")
    var weights: String

    @Option(help: "The .npy file to write (replaced only once everything has been read).")
    var out: String

    func validate() throws {
        try CLIFiles.validateNetworkOption(network)
        guard FileManager.default.fileExists(atPath: weights) else {
            throw ValidationError("--weights '\(weights)' does not exist")
        }
        guard out.hasSuffix(".npy") else {
            throw ValidationError("--out '\(out)' must end in .npy")
        }
    }

    func run() throws {
        let layout = try ParameterLayout(spec: try NetworkSpec.load(path: network))
        let genome = try CLIFiles.genome(safetensors: weights, layout: layout)
        try NpyFile.write(genome, path: out)
        print("wrote \(out): \(genome.count) float32 values from \(layout.tensors.count) tensors")
    }
}
