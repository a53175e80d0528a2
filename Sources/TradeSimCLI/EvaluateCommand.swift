import ArgumentParser
import Experiments

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Run a run's saved greedy policy over a whole split (every step logged to the store) and compare it "
            + "with the baselines.")

    @Argument(help: "Run id or the start of its name.")
    var reference: String
    @Option(help: "train, validation or test (test: the held-out years; never tune on them).")
    var split: Split = .validation
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let db = try existingStore(store)
        let (saved, _) = try evaluateRun(reference, split: split, store: db)
        print("\(saved.run.name): \(split.rawValue) split evaluated from the checkpoint at step \(saved.step)")
        print(try RunSummary(runs: [saved.run], splits: [split], store: db).text)
    }
}
