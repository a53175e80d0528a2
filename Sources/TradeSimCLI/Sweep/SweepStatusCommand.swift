import ArgumentParser
import Experiments
import Foundation
import Sweeps

/// `tradesim sweep status NAME`: done, running, interrupted, failed and pending trials with an ETA, and every trial.
struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "A sweep's trials by status, with an estimate of the time left.")

    @Argument(help: "The sweep's name.")
    var sweep: String
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let status = try SweepStatus(sweep, store: existingStore(store))
        let eta = status.secondsLeft.map { "ETA " + ProgressPrinter.duration($0) } ?? "ETA ? (no trial finished yet)"
        print("sweep \(sweep): " + status.counts.map { "\($0.count) \($0.status)" }.joined(separator: ", ") + "; \(eta)")
        print(status.table.plain)
    }
}
