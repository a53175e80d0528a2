import ArgumentParser
import Experiments
import Foundation
import RunStore

struct RunsRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Delete runs with their episodes, steps, trades, metrics and checkpoint files.",
        discussion: """
            Asks before deleting when standard input is a terminal; otherwise --yes is required. A run whose process \
            is still alive is refused. Each run's rows go in one transaction; then its checkpoint files are deleted, \
            with their step-N folders and the run's folder once empty.
            """)

    @Argument(help: "Run ids or name prefixes.")
    var runs: [String] = []
    @Option(help: "Also every run with this status.")
    var status: RemovableStatus?
    @Flag(help: "Delete without asking (required when standard input is not a terminal).")
    var yes = false
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func validate() throws {
        if runs.isEmpty && status == nil {
            throw ValidationError("give run ids or names, or --status interrupted|failed")
        }
    }

    /// The statuses whose runs are deleted by status: a finished run is deleted only by name.
    enum RemovableStatus: String, ExpressibleByArgument, CaseIterable {
        case interrupted, failed
        var status: RunStatus { self == .interrupted ? .interrupted : .failed }
    }

    func run() throws {
        let db = try existingStore(store)
        var selected: [RunRecord] = []
        for r in try runs.map(db.run(reference:)) + (status.map { try db.runs(status: $0.status) } ?? [])
        where !selected.contains(where: { $0.id == r.id }) {
            selected.append(r)
        }
        guard !selected.isEmpty else {
            print("nothing to delete: no \(status?.rawValue ?? "matching") runs in \(db.path)")
            return
        }
        if let live = selected.first(where: { $0.status == .running }) {
            throw CLIError("run \(live.id!) (\(live.name)) is running; stop its process first (nothing deleted)")
        }
        if let (ensemble, member) = try ensembleLeftWithoutAMember(selected, store: db) {
            throw CLIError(
                "run \(member.id!) (\(member.name)) is a member of ensemble run \(ensemble.id!) (\(ensemble.name)); "
                    + "delete the ensemble with it, or first (nothing deleted)")
        }
        let count = plural(selected.count, "run")
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                throw CLIError("standard input is not a terminal: pass --yes to delete \(count) (nothing deleted)")
            }
            let names = selected.map(\.name).joined(separator: ", ")
            FileHandle.standardError.write(Data("delete \(count) (\(names))? [y/N] ".utf8))
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                print("nothing deleted")
                return
            }
        }
        for run in selected {
            let deleted = try db.deleteRun(id: run.id!)
            let removed = try removeCheckpointFiles(deleted.files, runName: run.name)
            var line = "deleted run \(run.id!) (\(run.name)) and \(plural(removed, "checkpoint file"))"
            if removed < deleted.files.count { line += " (\(deleted.files.count - removed) already gone)" }
            if deleted.borrowedFiles > 0 {
                line +=
                    "; its \(plural(deleted.borrowedFiles, "checkpoint file")) \(deleted.borrowedFiles == 1 ? "stays" : "stay") "
                    + "with the store it was copied from"
            }
            print(line)
        }
    }

    /// Deletes the files, then each `step-N` folder they were in and the run's folder above it, once empty (a folder
    /// that still holds files the store does not list is kept). Returns how many files it deleted (the others were
    /// already gone).
    private func removeCheckpointFiles(_ files: [String], runName: String) throws -> Int {
        let fm = FileManager.default
        var removed = 0
        for file in files where fm.fileExists(atPath: file) {
            do {
                try fm.removeItem(atPath: file)
                removed += 1
            } catch {
                throw CLIError("\(file): cannot delete the checkpoint file")
            }
        }
        let steps = Set(files.map { ($0 as NSString).deletingLastPathComponent })
            .filter { ($0 as NSString).lastPathComponent.hasPrefix("step-") }
        let runFolders = Set(steps.map { ($0 as NSString).deletingLastPathComponent })
            .filter { ($0 as NSString).lastPathComponent == runName }
        for folder in steps.sorted() + runFolders.sorted() {
            rmdir(folder)  // fails, and keeps the folder, unless it is empty
        }
        return removed
    }
}
