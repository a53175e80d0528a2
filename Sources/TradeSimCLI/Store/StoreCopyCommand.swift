import ArgumentParser
import Experiments
import Foundation
import RunStore

/// `tradesim store copy FROM TO [RUN…|--sweep NAME]`: runs and sweeps from one store into another, either backend.
struct StoreCopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy runs (episodes, steps, trades, metrics, checkpoint records) and sweeps (with their trials) "
            + "from one store into another, e.g. from a cluster's PostgreSQL to a SQLite file.",
        discussion: """
            Without RUN or --sweep, every run and every sweep is copied. Runs and sweeps are matched by name: one \
            that TO has already is left as it is, so copying twice adds nothing. Checkpoint files stay where they are \
            and are recorded by their absolute paths, as borrowed: deleting a copied run from TO leaves them. FROM \
            must exist (it is only read); TO is created when missing.
            """)

    @Argument(help: "The store to copy from: a SQLite file or a postgresql://user@host:port/db URL.")
    var from: String
    @Argument(help: "The store to copy into (created when missing).")
    var to: String
    @Argument(help: "Runs to copy: ids (in FROM) or name prefixes.")
    var runs: [String] = []
    @Option(help: "Copy this sweep, its trials and their runs.")
    var sweep: String?

    func validate() throws {
        if sweep != nil && !runs.isEmpty { throw ValidationError("give runs or --sweep, not both") }
    }

    func run() throws {
        let source = try storeToRead(from)
        let selected = runs.isEmpty ? nil : try runs.map { try source.run(reference: $0) }
        if let sweep { _ = try source.sweep(named: sweep) }  // before TO is created
        let destination = try RunStore(path: to)
        let report = try destination.copy(from: source, runs: selected, sweep: sweep)
        var parts = ["\(plural(report.runsCopied, "run")) (\(plural(report.steps, "step")))"]
        if report.sweepsCopied + report.sweepsPresent > 0 { parts.append(plural(report.sweepsCopied, "sweep")) }
        let present = report.runsPresent + report.sweepsPresent
        print(
            "copied \(parts.joined(separator: ", ")) from \(source.path) to \(destination.path)"
                + (present > 0 ? "; \(present) already there" : ""))
    }
}
