import Foundation
import MarketData
import RLCore

@testable import TradingEnv

/// A panel from per-asset (open, close) rows; high/low bracket them by 1%. Shapes: open, close (D, N) date-major.
func makePanel(open: [Double], close: [Double], assets: Int = 1, start: Int64 = 946_684_800) -> Panel {
    let d = close.count / assets
    let high = zip(open, close).map { max($0, $1) * 1.01 }
    let low = zip(open, close).map { min($0, $1) * 0.99 }
    return Panel(
        source: "test", tickers: (0..<assets).map { "A\($0)" },
        timestamps: (0..<d).map { start + Int64($0) * 86_400 },
        open: open, high: high, low: low, close: close,
        volume: [Double](repeating: 1_000, count: close.count), observed: [Bool](repeating: true, count: close.count))
}

/// Causal test features: per asset, the log return of close and close/open − 1. Shape (D, 2N).
func simpleFeatures(_ p: Panel) -> [Float] {
    let n = p.assetCount
    var f = [Float](repeating: 0, count: p.barCount * 2 * n)
    for t in 0..<p.barCount {
        for i in 0..<n {
            let c = p.close[t * n + i]
            f[t * 2 * n + 2 * i] = t == 0 ? 0 : Float(log(c / p.close[(t - 1) * n + i]))
            f[t * 2 * n + 2 * i + 1] = Float(c / p.open[t * n + i] - 1)
        }
    }
    return f
}

/// A seeded geometric random walk: D bars of N assets, opens gapping from the previous close.
func randomPanel(bars: Int, assets: Int = 1, seed: UInt64 = 1) -> Panel {
    var rng = Xoshiro256(seed: seed)
    var open = [Double](), close = [Double]()
    var last = [Double](repeating: 100, count: assets)
    for _ in 0..<bars {
        for i in 0..<assets {
            let o = last[i] * exp(0.003 * standardNormal(using: &rng))
            let c = o * exp(0.01 * standardNormal(using: &rng))
            open.append(o); close.append(c); last[i] = c
        }
    }
    return makePanel(open: open, close: close, assets: assets)
}

func makeEnv(_ p: Panel, window: Int = 1, configure: (inout MarketConfig) -> Void = { _ in }) throws -> MarketEnv {
    var c = MarketConfig()
    c.window = window
    c.initialCash = 1_000
    configure(&c)
    return try MarketEnv(
        panel: p, features: simpleFeatures(p), width: 2 * p.assetCount, bars: 0..<p.barCount, config: c)
}
