import ArgumentParser
import Experiments
import Foundation

struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract:
            "Supervised pretraining of the agents' Market2Vec + LSTM encoder on an event label; scores on the "
            + "evaluated splits; stores the run and its checkpoint.",
        discussion: "An agent file starts from the result with `encoder: {from: RUN, freeze: true|false}`.")

    @Argument(
        help: """
            experiments/NAME.yaml (a pretrain file: environment, encoder, labels, steps, batch, \
            learningRate, seed, store)
            """
    )
    var file: String
    @Option(parsing: .unconditional, help: "Optimizer steps (overrides the file).")
    var steps: Int?
    @Option(help: "The run store (overrides the file).")
    var store: String?

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let steps, steps > ExperimentSpec.maxSteps {
            throw ValidationError("--steps must be at most \(ExperimentSpec.maxSteps), got \(steps)")
        }
    }

    func run() throws {
        var bar = ProgressPrinter()
        let outcome = try runPretrain(file, storePath: store, steps: steps) { bar.show($0) }
        bar.finish()
        print(
            "\(outcome.run.name): training loss \(String(format: "%.4f", outcome.firstLoss)) (first 10% of steps) → "
                + "\(String(format: "%.4f", outcome.lastLoss)) (last 10%)"
        )
        for report in outcome.reports { print(report.line) }
    }
}
