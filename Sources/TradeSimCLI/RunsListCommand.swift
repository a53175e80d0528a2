import ArgumentParser
import Experiments
import Foundation
import RunStore

struct RunsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the runs in a store with their status and headline validation metrics.")

    @Option(help: "The run store.")
    var store: String = defaultStorePath
    @Option(help: "Only runs of this experiment: its file (experiments/NAME.yaml) or its name.")
    var experiment: String?
    @Option(help: "Only runs with this status (running, finished, failed, interrupted).")
    var status: RunStatus?

    func run() throws {
        let db = try storeToRead(store)
        var table = TextTable(header: [
            "id", "name", "status", "steps", "episodes", "val sharpe", "val equity",
            "started",
        ])
        for r in try db.runs(experiment: experiment.map(experimentName), status: status) {
            let id = r.id ?? 0
            let trained = try db.metrics(runId: id, key: "charts/globalStep").last.map { String(Int($0.value)) } ?? "-"
            let steps = r.policyStep.map { "\(trained) (policy \($0))" } ?? trained
            /// The last evaluation of `key`, that of the run's policy when it is an earlier checkpoint
            func headline(_ key: String) throws -> String? {
                let rows = try db.metrics(runId: id, key: key)
                return (r.policyStep.flatMap { step in rows.last { $0.globalStep == step } } ?? rows.last)
                    .map { format($0.value) }
            }
            let sharpe = try headline("eval/validation/sharpe"), equity = try headline("eval/validation/finalEquity")
            let episodes = try db.episodes(runId: id).count
            table.append([
                "\(id)", r.name, r.status.rawValue, steps, "\(episodes)", sharpe ?? "-", equity ?? "-",
                ISO8601DateFormatter().string(from: r.startedAt),
            ])
        }
        print(table.plain)
    }
}
