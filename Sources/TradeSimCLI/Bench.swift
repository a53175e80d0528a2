import ArgumentParser
import Foundation
import TradingEnv

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print one JSON line (build with -c release; pin OPENBLAS_NUM_THREADS).",
        subcommands: [BenchEnv.self])
}

struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Environment steps per second with random discrete actions (gym-anytrading stocks-v0 workload).")

    @Option(help: "Assets in the panel (1 = a synthetic single series of 5,000 bars; >1 = a synthetic panel).")
    var assets: Int = 1
    @Option(help: "Observation window T.")
    var window: Int = 10
    @Option(help: "Steps to time.")
    var steps: Int = 20_000_000
    @Option(help: "Bars per asset.")
    var bars: Int = 5_000

    func validate() throws {
        guard assets >= 1 else { throw ValidationError("--assets must be at least 1") }
        guard window >= 1, window < bars - 1 else { throw ValidationError("--window must be between 1 and bars − 2") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        let panel = syntheticPanel(assets: assets, bars: bars)
        let result = try benchmarkEnv(panel: panel, window: window, steps: steps)
        try printJSONLine(result, adding: ["data": panel.source])
    }
}
