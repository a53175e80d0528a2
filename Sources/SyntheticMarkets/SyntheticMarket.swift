import MarketData
import TradingEnv

/// A panel environment at any scale for benchmarks: `syntheticPanel` (N seeded random walks × D bars), the first K of
/// the per-asset features (`FeatureConfig()`: logReturn, range, body, volumeZ, volatility) normalised on the first
/// 80% of the bars, so an observation row is the whole market, F = N·K (1,000 assets × 4 = 4,000: Market2Vec at the
/// essay's scale). Continuous long-only target weights with gross leverage ≤ 1, 5 bps commission and half-spread,
/// random 252-bar episodes over the first 80%; the portfolio weights are not appended (the input stays F wide).
public func syntheticMarketEnv(assets n: Int, features k: Int, bars d: Int = 2_000, window: Int = 32, seed: UInt64 = 1)
    throws -> MarketEnv
{
    let kinds = FeatureConfig().assetColumns
    guard (1...kinds.count).contains(k) else {
        throw EnvironmentError("features per asset must be 1…\(kinds.count), not \(k)")
    }
    let panel = syntheticPanel(assets: n, bars: d, seed: seed)
    let all = try FeatureMatrix.compute(panel, config: FeatureConfig())
    let train = 0..<(d * 4 / 5)
    let normalised = try Normaliser.fit(all, rows: train).apply(all)
    var values = [Float](repeating: 0, count: d * n * k)
    for t in 0..<d {
        for i in 0..<n {
            for j in 0..<k { values[(t * n + i) * k + j] = normalised.values[t * all.width + i * kinds.count + j] }
        }
    }
    var config = MarketConfig()
    config.window = window
    config.actions.kind = .weights
    config.actions.longOnly = true
    config.actions.maxGrossLeverage = 1
    config.costs = CostModel(commissionBps: 5, halfSpreadBps: 5)
    config.episode.mode = .random
    config.observePosition = false
    return try MarketEnv(
        panel: panel, features: values, width: n * k, bars: train, firstObservableBar: all.warmup,
        config: config, seed: seed)
}
