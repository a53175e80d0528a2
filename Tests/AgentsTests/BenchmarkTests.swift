import Foundation
import NeuralCore
import RLCore
import Testing
@testable import Agents
@testable import TradingEnv

// Throughput of the benchmark workloads (`benchmarkConfig`): E32 H64 L1, window 32, 3 actions, on a 5,000-bar
// synthetic single asset (F = 2 features + 1 extra). Printed, never asserted on time. Run in release:
// `TRADESIM_BENCH=1 swift test -c release --filter AgentsTests.benchmark`.
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

/// The encoder alone (E32 H64 L1, T32, F+P = 3): forward and forward+backward per batch size, to show how much of an
/// agent's update is the network.
@Test(.enabled(if: ProcessInfo.processInfo.environment["TRADESIM_BENCH"] != nil)) func benchmarkEncoder() {
    setBLASThreads(1)
    var rng = Xoshiro256(seed: 1)
    let net = EncoderConfig(embedding: 32, hidden: 64, layers: 1)
        .network(inputWidth: 3, window: 32, heads: [HeadSpec("q", .linear(outputs: 3))], using: &rng)
    for B in [1, 64, 256] {
        let ws = net.makeWorkspace(batch: B, time: 32)
        for i in 0..<ws.input.count { ws.input[i] = Float(i % 7) * 0.1 }
        let n = B == 1 ? 2_000 : 40
        var t = now()
        for _ in 0..<n { net.forward(ws) }
        let forward = (now() - t) / Double(n)
        t = now()
        for _ in 0..<n { net.forward(ws); net.backward(ws) }
        let both = (now() - t) / Double(n)
        print("bench encoder B\(B) T32: forward \(forward * 1e3) ms, forward+backward \(both * 1e3) ms, \(Double(B) / both) samples/s")
    }
}
