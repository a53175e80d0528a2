import Foundation
import MarketData
import RLCore

/// A seeded synthetic panel (geometric random walks with gaps, realistic ranges), for benchmarks and tests that need
/// more assets or bars than the committed data has. Shapes: N assets × D bars, daily timestamps from 2000-01-03.
public func syntheticPanel(assets n: Int, bars d: Int, seed: UInt64 = 1) -> Panel {
    var rng = Xoshiro256(seed: seed)
    var open = [Double](repeating: 0, count: n * d), high = open, low = open, close = open
    var last = [Double](repeating: 100, count: n)
    for t in 0..<d {
        for i in 0..<n {
            let o = last[i] * exp(0.002 * standardNormal(using: &rng))
            let c = o * exp(0.01 * standardNormal(using: &rng))
            let k = t * n + i
            open[k] = o; close[k] = c
            high[k] = max(o, c) * (1 + 0.005 * abs(standardNormal(using: &rng)))
            low[k] = min(o, c) * (1 - 0.005 * abs(standardNormal(using: &rng)))
            last[i] = c
        }
    }
    return Panel(
        source: "synthetic(\(n)×\(d), seed \(seed))", tickers: (0..<n).map { "S\($0)" },
        timestamps: (0..<d).map { 946_857_600 + Int64($0) * 86_400 },
        open: open, high: high, low: low, close: close,
        volume: [Double](repeating: 1e6, count: n * d), observed: [Bool](repeating: true, count: n * d))
}
