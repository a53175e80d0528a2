import Agents
import Benchmarks
import Foundation
import NeuralCore
import SyntheticMarkets
import Testing
import TradingEnv

// Throughput of the benchmark workloads (`benchmarkConfig`): E32 H64 L1, window 32, 3 actions, on a 5,000-bar
// synthetic single asset (F = 2 features + 1 extra). Printed, never asserted on time. Run in release:
// `TRADESIM_BENCH=1 swift test -c release --filter BenchmarksTests.benchmarkWorkloads`.
// BLAS threads: TRADESIM_BENCH_THREADS (default 1).

@Test(.enabled(if: ProcessInfo.processInfo.environment["TRADESIM_BENCH"] != nil), arguments: Algorithm.allCases)
func benchmarkWorkloads(algo: Algorithm) throws {
    let threads = Int(ProcessInfo.processInfo.environment["TRADESIM_BENCH_THREADS"] ?? "1") ?? 1
    setBLASThreads(threads)
    let p = syntheticPanel(assets: 1, bars: 5_000)
    var f = [Float](repeating: 0, count: 5_000 * 2)
    for t in 1..<5_000 {
        f[2 * t] = Float(50 * log(p.close[t] / p.close[t - 1]))
        f[2 * t + 1] = Float(p.close[t] / p.open[t] - 1) * 50
    }
    var mc = MarketConfig()
    mc.window = 32
    mc.costs = CostModel(commissionBps: 1, halfSpreadBps: 1)
    let env = try MarketEnv(panel: p, features: f, width: 2, bars: 0..<5_000, config: mc)
    let steps = algo == .dqn ? 6_000 : 8 * 128 * 6
    let r = benchmarkAgent(algo: algo, env: env, steps: steps)
    let line = String(data: try JSONEncoder().encode(r), encoding: .utf8)!
    print("bench agent (threads \(threads)): \(line)")
    #expect(r.envSteps >= steps && r.updates > 0)
}
