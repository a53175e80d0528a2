import ArgumentParser
import Experiments
import Foundation
import MarketData

struct BenchLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Seconds to load, validate and align a market data file (CSV or .csv.gz), best of several rounds.")

    @Argument(help: "The data file (default: the repository's 20-stock panel, from the repository root).")
    var file: String = "data/us_stocks_20_1990_2012.csv.gz"
    @Option(parsing: .unconditional, help: "Rounds (the best is reported).")
    var rounds: Int = 5
    @Option(help: "Time an environment file's whole data load instead: data file, side series, features, normaliser.")
    var env: String?

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() throws {
        if let env { return try runEnvironment(env) }
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
        struct Result: Encodable {
            var file: String; var rows: Int; var assets: Int; var bars: Int; var seconds: Double
        }
        try printJSONLine(
            Result(file: file, rows: rows, assets: panel!.assetCount, bars: panel!.barCount, seconds: best))
    }

    /// `loadMarket` of `path`'s data (what every command that opens the environment does first), best of `rounds`.
    func runEnvironment(_ path: String) throws {
        let spec = try EnvironmentSpec.load(path)
        let folder = (path as NSString).deletingLastPathComponent
        var best = Double.infinity
        var dataset: MarketDataset?
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                dataset = try loadMarket(spec.data, baseDirectory: folder.isEmpty ? "." : folder)
            } catch let error as MarketDataError {
                throw CLIError("\(path): data: \(error.description)")
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        struct Result: Encodable {
            var env: String, assets: Int, bars: Int, features: Int, warmup: Int, seconds: Double
        }
        try printJSONLine(
            Result(
                env: path, assets: dataset!.panel.assetCount, bars: dataset!.panel.barCount,
                features: dataset!.features.width, warmup: dataset!.features.warmup, seconds: best))
    }
}
