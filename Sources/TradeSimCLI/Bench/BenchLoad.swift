import ArgumentParser
import Foundation
import MarketData

struct BenchLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Seconds to load, validate and align a market data file (CSV or .csv.gz), best of several rounds.")

    @Argument(help: "The data file (default: the repository's 20-stock panel, from the repository root).")
    var file: String = "data/us_stocks_20_1990_2012.csv.gz"
    @Option(help: "Rounds (the best is reported).")
    var rounds: Int = 5

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() throws {
        var best = Double.infinity
        var panel: Panel?
        var rows = 0
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            let (p, report) = try loadPanel(path: file, config: DataConfig())
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            panel = p
            rows = report.rowsRead
        }
        struct Result: Encodable { var file: String; var rows: Int; var assets: Int; var bars: Int; var seconds: Double }
        try printJSONLine(Result(file: file, rows: rows, assets: panel!.assetCount, bars: panel!.barCount, seconds: best))
    }
}
