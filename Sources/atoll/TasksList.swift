import ArgumentParser
import Tasks

/// `atoll tasks`: the built-in tasks with their network sizes and fitness.
struct TasksList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List the built-in tasks: network input/output sizes and fitness.",
        discussion: "Sizes of csv: and external: tasks depend on the file or the program (\"any\")."
    )

    func run() throws {
        let rows = TaskCatalog.builtins.map { entry in
            [
                entry.name, entry.inputSize.map(String.init) ?? "any", entry.outputSize.map(String.init) ?? "any",
                entry.fitness, entry.summary,
            ]
        }
        let header = ["task", "inputs", "outputs", "fitness", "description"]
        let widths = (0..<header.count - 1).map { c in ([header] + rows).map { $0[c].count }.max()! + 2 }
        for row in [header] + rows {
            print(
                row.enumerated().map { c, text in
                    c < widths.count ? text.padding(toLength: widths[c], withPad: " ", startingAt: 0) : text
                }.joined())
        }
    }
}
