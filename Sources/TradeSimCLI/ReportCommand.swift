import ArgumentParser
import Experiments
import Foundation
import RunStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write one self-contained HTML page (inline SVG, no script, no network) of runs against the baselines.",
        discussion: """
            The runs' saved policies and every baseline are evaluated on the split (or years) as in `tradesim \
            compare`, with the first run's environment costs. The page shows equity curves, drawdowns, positions over \
            price with trade markers, the per-year table, reward histograms, learning curves from the store's metric \
            table, and the PSR / DSR figures. scripts/check_report.sh renders it in headless Chromium.
            """)

    @OptionGroup var selection: RunSelection
    @Option(help: "The HTML file to write.")
    var out: String = "report.html"

    func run() throws {
        let db = try storeToRead(selection.store)
        let request = try selection.request()
        let selected = try selection.selected(in: db)
        try checkOutput(
            out, flag: "--out", store: selection.store, evaluating: selected.runs, in: db,
            experiment: selection.experiment)
        let comparison = try selection.comparison(of: selected, in: db, request: request)
        try write(try htmlReport(comparison, runs: selected.runs, store: db), to: out)
        print("report: \(out)")
    }
}
