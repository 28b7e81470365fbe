import ArgumentParser
import Foundation
import Networks

/// `atoll export`: a genome to a safetensors file with PyTorch's names, loadable with
/// `model.load_state_dict(safetensors.torch.load_file(path))`.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a genome as a safetensors file with PyTorch's nn.Sequential names and shapes.",
        discussion: """
            The genome is a flat float32 .npy vector in parameter-layout order, or a .safetensors \
            file holding either the network's named tensors or one flat tensor. The output holds \
            one F32 tensor per parameter ("0.weight" [out, in], "0.bias", …) and the spec as \
            __metadata__ "atoll.network".

            Example: atoll export --network mlp:64-32-10 --genome best.npy --out best.safetensors
            """
    )

    @Option(help: "The network: a YAML or JSON spec file, or the shorthand mlp:64-32-10[:activation].")
    var network: String

    @Option(help: "The genome: FILE.npy (flat float32) or FILE.safetensors.")
    var genome: String

    @Option(help: "The safetensors file to write (replaced only once everything has been read).")
    var out: String

    func validate() throws {
        try CLIFiles.validateNetworkOption(network)
        guard genome.hasSuffix(".npy") || genome.hasSuffix(".safetensors") else {
            throw ValidationError("--genome '\(genome)' must end in .npy or .safetensors")
        }
        guard FileManager.default.fileExists(atPath: genome) else {
            throw ValidationError("--genome '\(genome)' does not exist")
        }
        guard out.hasSuffix(".safetensors") else {
            throw ValidationError("--out '\(out)' must end in .safetensors")
        }
    }

    func run() throws {
        let spec = try NetworkSpec.load(path: network)
        let layout = try ParameterLayout(spec: spec)
        let values =
            genome.hasSuffix(".npy")
            ? try NpyFile.read(path: genome)
            : try CLIFiles.genome(safetensors: genome, layout: layout)
        guard values.count == layout.parameterCount else {
            throw NetworkSpecError.layoutMismatch(
                "--genome '\(genome)' has \(values.count) values but network '\(network)' has \(layout.parameterCount) parameters"
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let specJSON = String(decoding: try encoder.encode(spec), as: UTF8.self)
        try SafeTensors(genome: values, layout: layout, metadata: ["format": "pt", "atoll.network": specJSON]).write(
            path: out)
        print(
            "wrote \(out): \(layout.tensors.count) tensors (\(layout.tensors.map(\.name).joined(separator: ", "))), \(layout.parameterCount) parameters"
        )
    }
}

/// Checks shared by the commands that take files.
enum CLIFiles {
    /// `--network` is the mlp shorthand or an existing file.
    static func validateNetworkOption(_ network: String) throws {
        if network.hasPrefix("mlp:") { return }
        guard FileManager.default.fileExists(atPath: network) else {
            throw ValidationError(
                "--network '\(network)' is neither a spec file that exists nor a shorthand like mlp:64-32-10")
        }
    }

    /// The genome in a safetensors file, with the file named in any error.
    static func genome(safetensors path: String, layout: ParameterLayout) throws -> [Float] {
        do {
            return try SafeTensors.read(path: path).genome(for: layout)
        } catch var error as SafeTensorsError {
            error.file = path
            throw error
        }
    }
}
