import ArgumentParser
import Experiments
import Foundation
import Sweeps

extension SelectionMetric: ExpressibleByArgument {}

/// `tradesim sweep results NAME`: the configurations ranked on validation, the selection's DSR and PBO; `--test`
/// for the one look at the test split.
struct SweepResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Rank a sweep's configurations by their mean validation metric over seeds; the selected one's "
            + "Deflated Sharpe Ratio and the Probability of Backtest Overfitting of the selection.",
        discussion: """
            DSR: N counts this sweep's configuration × seed tracks and the other runs in the store evaluated on the \
            same years of the same data; V is the variance of their per-bar Sharpe ratios. PBO: combinatorially \
            symmetric cross-validation of the configurations × validation-bars matrix of returns (each configuration \
            the mean of its seeds) cut into --blocks blocks. --test evaluates the selected configuration once on the \
            test split and records the look; another configuration needs --configuration K --unselected.
            """)

    @Argument(help: "The sweep's name.")
    var sweep: String
    @Option(help: "The run store.")
    var store: String = defaultStorePath
    @Option(help: "Rank by: sharpe, sortino, calmar, totalReturn, annualReturn.")
    var metric: SelectionMetric = .sharpe
    @Option(parsing: .unconditional, help: "S, the number of CSCV blocks (even, 2 to 20).")
    var blocks: Int = 16
    @Option(help: "table, markdown, csv or json.")
    var format: CompareFormat = .table
    @Option(help: "Write the output to this file instead of standard output.")
    var out: String?
    @Option(help: "Write an HTML report (the ranking and the histogram of the CSCV logits) to this file.")
    var report: String?
    @Flag(
        help: "Evaluate the selected configuration's runs on the test split (once) and compare them with the baselines."
    )
    var test = false
    @Option(
        parsing: .unconditional,
        help: "With --test --unselected: look at this configuration instead of the selected one.")
    var configuration: Int?
    @Flag(help: "Allow --test on a configuration that was not selected (the look is recorded).")
    var unselected = false
    @Flag(help: "Make the selected configuration's seeds an ensemble run (tradesim ensemble) and compare it with them.")
    var ensemble = false

    func validate() throws {
        guard blocks >= 2, blocks % 2 == 0 else {
            throw ValidationError("--blocks must be even and at least 2, got \(blocks)")
        }
        guard blocks <= 20 else {
            throw ValidationError("--blocks must be at most 20 (C(S, S/2) train/test splits), got \(blocks)")
        }
        if configuration != nil && !test { throw ValidationError("--configuration goes with --test") }
    }

    func run() throws {
        let db = try storeToRead(store)
        let record = try db.sweep(named: sweep)
        let runs = try db.trials(sweepId: record.id!).compactMap(\.runId).map { try db.run(id: $0) }
        for (flag, path) in [("--out", out), ("--report", report)] {
            if let path {
                try checkOutput(
                    path, flag: flag, store: store, evaluating: runs, in: db, experiment: record.experimentPath)
            }
        }
        let results = try SweepResults(sweep, store: db, metric: metric, blocks: blocks)
        if test { _ = try results.testLook(configuration: configuration, unselected: unselected) }  // before any output
        try write(try results.rendered(format), to: out)
        if let report {
            try write(results.html, to: report, flag: "--report")
            print("report: \(report)")
        }
        if ensemble {
            let members = results.ranking[0].runs
            let run = try createEnsemble(of: members, store: db)
            print("ensemble \(run.name) of configuration \(results.selected)'s \(members.count) runs")
            print(
                try RunSummary(
                    runs: [run] + members.map { try db.run(reference: $0) }, splits: [.validation],
                    store: db
                ).text)
        }
        if test {
            let look = try lookAtTest(sweep, configuration: configuration, unselected: unselected, store: db)
            if look.before > 0 {
                print(
                    "the test split was looked at before for \(look.before) of these \(plural(look.runs.count, "run")): "
                        + "their recorded episodes are shown, not a new look")
            }
            print(try RunSummary(runs: look.runs, splits: [.test], store: db).text)
        }
    }
}
