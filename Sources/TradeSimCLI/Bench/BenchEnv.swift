import ArgumentParser
import Benchmarks
import Experiments
import MarketData
import SyntheticMarkets

struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Environment steps per second with random discrete actions (gym-anytrading stocks-v0 workload).")

    @Option(
        parsing: .unconditional, help: "Assets; more than the data file has are made synthetic (seeded random walks).")
    var assets: Int = 1
    @Option(parsing: .unconditional, help: "Observation window T.")
    var window: Int = 10
    @Option(parsing: .unconditional, help: "Environment steps to time.")
    var steps: Int = 20_000_000
    @Option(
        help: """
            Step this many copies together through VectorEnv's window columns (one batch step for all of them); 0 \
            steps one environment on its own.
            """)
    var envs: Int = 0
    @Option(help: "Environment file whose bars to replay when --assets is 1, or 'synthetic'.")
    var env: String = "environments/sp500-daily.yaml"
    @Option(parsing: .unconditional, help: "Bars per asset of a synthetic panel.")
    var bars: Int = 5_000

    func validate() throws {
        guard assets >= 1 else { throw ValidationError("--assets must be at least 1") }
        guard window >= 1, window < bars - 1 else { throw ValidationError("--window must be between 1 and --bars − 2") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard envs >= 0, envs <= steps else { throw ValidationError("--envs must be between 0 and --steps") }
    }

    func run() throws {
        let panel: Panel
        if assets == 1 && env != "synthetic" {
            panel = try MarketSetup(path: env).dataset.panel
        } else {
            panel = syntheticPanel(assets: assets, bars: bars)
        }
        let result = try benchmarkEnv(panel: panel, window: window, steps: steps, envs: envs)
        try printJSONLine(result, adding: ["data": panel.source, "bars": panel.barCount])
    }
}
