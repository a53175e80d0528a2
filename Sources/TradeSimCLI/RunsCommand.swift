import ArgumentParser
import Experiments
import Foundation
import RunStore

extension RunStatus: ExpressibleByArgument {}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the runs in a store with their status and headline validation metrics.")

    @Option(help: "The run store.")
    var store: String = defaultStorePath
    @Option(help: "Only runs of this experiment.")
    var experiment: String?
    @Option(help: "Only runs with this status (running, finished, failed, interrupted).")
    var status: RunStatus?

    func run() throws {
        let db = try existingStore(store)
        var table = TextTable(header: ["id", "name", "status", "steps", "episodes", "val sharpe", "val equity", "started"])
        for r in try db.runs(experiment: experiment, status: status) {
            let id = r.id ?? 0
            let steps = try db.metrics(runId: id, key: "charts/globalStep").last.map { String(Int($0.value)) } ?? "-"
            let sharpe = try db.metrics(runId: id, key: "eval/validation/sharpe").last.map { format($0.value) } ?? "-"
            let equity = try db.metrics(runId: id, key: "eval/validation/finalEquity").last.map { format($0.value) } ?? "-"
            table.append(["\(id)", r.name, r.status.rawValue, steps, "\(try db.episodes(runId: id).count)", sharpe, equity,
                          ISO8601DateFormatter().string(from: r.startedAt)])
        }
        print(table.plain)
    }
}

/// Four significant digits, or an integer for large values.
func format(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    return abs(x) >= 1e4 ? String(Int(x.rounded())) : String(format: "%.4g", x)
}
