import ArgumentParser
import Networks

/// The `atoll` command: neuroevolution in a learned latent space, islands on MPI ranks.
@main
struct Atoll: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "atoll",
        abstract: "Train neural networks with a genetic algorithm in a learned latent space, on MPI ranks.",
        discussion: """
            Launch with mpirun for several ranks (mpirun -np 2 atoll info); without mpirun a command \
            runs as a single rank.
            """,
        version: version,
        subcommands: [
            RunCommand.self,
            ResumeCommand.self,
            ReportCommand.self,
            CompareCommand.self,
            Info.self,
            Evaluate.self,
            TasksList.self,
            Optimize.self,
            Export.self,
            Import.self,
            Zoo.self,
            Pretrain.self,
            Bench.self,
            SelfTest.self,
        ]
    )

    /// Parses and runs the command; a file system error ends in one line naming its path.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: FileErrorReason.readable(error))
        }
    }
}
