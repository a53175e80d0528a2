import ArgumentParser
import Experiments
import Foundation
import RunStore

extension ExportTable: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Stream a run's steps, episodes, trades or metrics as CSV or JSON Lines, in constant memory.")

    @Argument(help: "Run id or the start of its name.")
    var reference: String
    @Option(help: "steps, episodes, trades or metrics.")
    var what: ExportTable = .steps
    @Option(help: "csv or jsonl.")
    var format: ExportFormat = .csv
    @Option(help: "Output file (default: standard output).")
    var out: String?
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let db = try storeToRead(store)
        let record = try db.run(reference: reference)
        if let out { try checkOutput(out, flag: "--out", store: store, evaluating: [record], in: db) }
        let output = try Output(out)
        try db.export(runId: record.id!, what: what, format: format) { try output.write($0) }
        try output.close()
    }
}
