import ArgumentParser
import Experiments
import Foundation
import RunStore

extension ExportTable: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}
extension RunStatus: ExpressibleByArgument {}

/// The run store every command uses unless told otherwise.
let defaultStorePath = "runs/tradesim.sqlite"

/// Opens a store that must already exist (commands that read runs never create an empty one).
func existingStore(_ path: String) throws -> RunStore {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such run store") }
    return try RunStore(path: path)
}

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
        let db = try existingStore(store)
        let record = try db.run(reference: reference)
        let handle: FileHandle
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
                throw CLIError("\(out): cannot create the output file")
            }
            handle = h
        } else {
            handle = FileHandle.standardOutput
        }
        defer { if out != nil { try? handle.close() } }
        _ = try db.export(runId: record.id!, what: what, format: format, to: handle)
    }
}

/// Four significant digits, or an integer for large values.
func format(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    return abs(x) >= 1e4 ? String(Int(x.rounded())) : String(format: "%.4g", x)
}
