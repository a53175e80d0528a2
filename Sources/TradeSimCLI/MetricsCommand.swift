import ArgumentParser
import Foundation
import MarketData
import RLCore

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract:
            "Risk and performance metrics (empyrical conventions, PSR, bootstrap Sharpe interval) of a column of "
            + "per-bar simple returns, as one JSON object."
    )

    @Argument(help: "A CSV file with a header row.")
    var file: String
    @Option(help: "The column of simple returns (default: the one named return or returns, or the only numeric one).")
    var column: String = ""
    @Option(parsing: .unconditional, help: "Bars per year (252 for daily bars).")
    var periods: Double = 252
    @Option(parsing: .unconditional, help: "Per-bar risk-free rate.")
    var riskFree: Double = 0
    @Option(parsing: .unconditional, help: "Seed of the stationary block bootstrap.")
    var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Bootstrap resamples (0 skips the interval; at most 1,000,000).")
    var resamples: Int = 1_000

    /// The most `--resamples`: a thousand times the default, seconds on a year of bars.
    static let maxResamples = 1_000_000

    func validate() throws {
        guard periods > 0, periods.isFinite else { throw ValidationError("--periods must be a positive number") }
        guard resamples >= 0 else { throw ValidationError("--resamples must be ≥ 0") }
        guard resamples <= Self.maxResamples else {
            throw ValidationError("--resamples must be at most \(Self.maxResamples), got \(resamples)")
        }
        guard riskFree.isFinite else { throw ValidationError("--risk-free must be a finite number") }
    }

    func run() throws {
        let (name, returns) = try readNumericColumn(path: file, column: column)
        if let k = returns.firstIndex(where: { $0 < -1 }) {
            throw CLIError(
                "\(file):\(k + 2): column '\(name)': \(returns[k]) is below -1, not a simple return (0.01 is 1%)")
        }
        let metrics = PerformanceMetrics(returns: returns, periods: periods, riskFree: riskFree)
        var rng = Xoshiro256(seed: seed)
        let interval =
            resamples > 1 ? bootstrapSharpeInterval(returns, periods: periods, resamples: resamples, using: &rng) : nil
        do {
            let sharpeInterval: Any = interval.map { [$0.lowerBound, $0.upperBound] } ?? NSNull()
            try printJSON(metrics, adding: ["column": name, "periods": periods, "sharpeInterval95": sharpeInterval])
        } catch is EncodingError {
            throw CLIError("\(file): column '\(name)': the metrics overflow; give simple returns per bar (0.01 is 1%)")
        }
    }
}
