import ArgumentParser

/// `atoll selftest …`: checks run by the test suite under real `mpirun` (hidden from `--help`).
struct SelfTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Correctness checks that need real MPI ranks (used by the test suite).",
        shouldDisplay: false,
        subcommands: [SelfTestCollectives.self]
    )
}
