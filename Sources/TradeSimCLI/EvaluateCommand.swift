import ArgumentParser
import Experiments

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Run a run's saved greedy policy over a whole split (every step logged to the store) and compare it with the baselines.")

    @Argument(help: "Run id or the start of its name.")
    var reference: String
    @Option(help: "train, validation or test (test: the held-out years; never tune on them).")
    var split: Split = .validation
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let (saved, summary) = try evaluateRun(reference, split: split, store: existingStore(store))
        let rows = [ComparisonRow(name: saved.run.name, summary: summary)] + (try baselineRows(setup: saved.setup, split: split))
        print("\(split.rawValue) split, checkpoint at step \(saved.step), greedy policy vs baselines:")
        print(comparisonTable(rows).plain)
    }
}
