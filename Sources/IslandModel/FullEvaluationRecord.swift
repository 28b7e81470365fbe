import Tasks

/// A line of `metrics.jsonl` (told from the island lines by `"kind": "full_evaluation"`): the
/// run's best genome (the islands' best: best-ever, or with minibatch fitness the best on the
/// generation's batch) scored on the whole training and test splits of a dataset task.
///
/// Written every `task.options.eval_every` generations and after the last one. With minibatch
/// fitness the island lines show fitness on each generation's batch; these lines show the loss and
/// accuracy on every sample. Like the island lines it depends only on the configuration.
public struct FullEvaluationRecord: Codable, Equatable, Sendable {
    public var kind = "full_evaluation"
    public var generation: Int
    /// The island that holds the genome, and the fitness it was chosen by.
    public var island: Int
    public var fitness: Float
    public var trainLoss: Double?
    public var trainAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case kind, generation, island, fitness
        case trainLoss = "train_loss"
        case trainAccuracy = "train_accuracy"
        case testLoss = "test_loss"
        case testAccuracy = "test_accuracy"
    }

    /// The record of `report` (a dataset task's report; other tasks leave the split fields nil).
    public init(generation: Int, island: Int, fitness: Float, report: TaskReport) {
        self.generation = generation
        self.island = island
        self.fitness = fitness
        trainLoss = report.split("train")?.loss
        trainAccuracy = report.split("train")?.accuracy
        testLoss = report.split("test")?.loss
        testAccuracy = report.split("test")?.accuracy
    }
}
