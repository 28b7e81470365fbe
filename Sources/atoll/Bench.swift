import ArgumentParser

/// `atoll bench …`: speed measurements that print figures (never pass/fail).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed: each subcommand prints a table of figures with their units.",
        subcommands: [
            BenchCollectives.self,
            BenchEvaluate.self,
            BenchOperators.self,
            BenchMeta.self,
            BenchLatent.self,
        ]
    )
}
