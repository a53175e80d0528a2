import ArgumentParser
import Experiments
import Foundation
import Sweeps

/// `tradesim sweeps`: the sweeps of a store.
struct SweepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sweeps", abstract: "List the sweeps in a store.")

    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let db = try storeToRead(store)
        var table = TextTable(header: [
            "name", "trials", "finished", "running", "interrupted", "failed", "pending",
            "launcher", "created",
        ])
        for sweep in try db.sweeps() {
            let status = try SweepStatus(sweep.name, store: db)
            table.append(
                [sweep.name, "\(status.trials.count)"] + status.counts.map { "\($0.count)" }
                    + [
                        sweep.launcher + (sweep.jobId.map { " \($0)" } ?? ""),
                        ISO8601DateFormatter().string(from: sweep.createdAt),
                    ])
        }
        print(table.plain)
    }
}
