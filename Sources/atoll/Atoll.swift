import ArgumentParser

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
}
