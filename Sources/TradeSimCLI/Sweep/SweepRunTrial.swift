import ArgumentParser
import Experiments
import Foundation
import Sweeps

/// `tradesim sweep run-trial NAME --index I`: one trial, in this process (what the local pool and each Slurm array
/// task run).
struct SweepRunTrial: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-trial",
        abstract:
            "Claim and train one trial of a sweep (resuming it from its last checkpoint if its process died or it "
            + "failed).")

    @Argument(help: "The sweep's name.")
    var sweep: String
    @Option(parsing: .unconditional, help: "The trial's index (0, 1, …).")
    var index: Int
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        var bar = ProgressPrinter()
        let result = try runTrial(sweep, index: index, store: existingStore(store)) { bar.show($0) }
        bar.finish()
        switch result {
        case .trained(let run): print("trial \(index) of sweep \(sweep): finished (run \(run))")
        case .alreadyFinished: print("trial \(index) of sweep \(sweep) had finished before")
        }
    }
}
