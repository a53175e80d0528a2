import RLCore

/// The rule-based strategies every agent is compared with.
public enum Baseline: String, Codable, Sendable, CaseIterable {
    /// Weight 1 on one asset, 1/N on each asset of a panel, from the first bar.
    case buyAndHold
    /// Weight 0.
    case flat
    /// Time-series momentum (Moskowitz, Ooi & Pedersen): the sign of the trailing `momentumLookback`-bar return.
    case momentum
    /// MACD crossover: long when EMA(fast) > EMA(slow) (or, with `macdSignal` > 0, when the MACD line is above its
    /// signal EMA), short (or flat when `macdShort` is false) otherwise.
    case macd
    /// Uniform random actions from the environment's action space (seeded).
    case random
}

/// Baseline parameters (FORMULAS.md defaults).
public struct BaselineConfig: Codable, Equatable, Sendable {
    /// Momentum look-back in bars (252 = one year of daily bars).
    public var momentumLookback: Int = 252
    /// MACD fast EMA span.
    public var macdFast: Int = 12
    /// MACD slow EMA span.
    public var macdSlow: Int = 26
    /// MACD signal EMA span; 0 compares the fast and slow EMAs directly.
    public var macdSignal: Int = 0
    /// MACD goes short when bearish (true) or flat (false).
    public var macdShort: Bool = true

    public init() {}
}

/// A baseline as a policy: `action(for:)` reads only prices at or before the observation's bar.
///
/// Signals are computed once for the whole series by causal recursions (value at t uses closes ≤ t), so the policy costs
/// nothing per step; a panel spreads the gross exposure equally: wᵢ = signalᵢ / N.
public struct BaselinePolicy: Sendable {
    public let kind: Baseline
    let n: Int
    /// (D, N) signal in [−1, 1] per asset and bar.
    let signal: [Double]
    let space: TradingActionSpace
    var rng: Xoshiro256

    public init(_ kind: Baseline, env: MarketEnv, config: BaselineConfig = BaselineConfig(), seed: UInt64 = 0) {
        self.kind = kind
        n = env.assetCount
        space = env.actionSpace
        rng = Xoshiro256(seed: seed)
        let closes = env.close
        let bars = closes.count / n
        var s = [Double](repeating: 0, count: closes.count)
        switch kind {
        case .buyAndHold:
            for k in s.indices { s[k] = 1 }
        case .flat, .random:
            break
        case .momentum:
            let L = config.momentumLookback
            for t in L..<max(bars, L) {
                for i in 0..<n {
                    let r = closes[t * n + i] / closes[(t - L) * n + i] - 1
                    s[t * n + i] = r > 0 ? 1 : (r < 0 ? -1 : 0)
                }
            }
        case .macd:
            for i in 0..<n {
                let p = stride(from: i, to: closes.count, by: n).map { closes[$0] }
                let line = zip(ema(p, span: config.macdFast), ema(p, span: config.macdSlow)).map { $0 - $1 }
                let reference = config.macdSignal > 0 ? ema(line, span: config.macdSignal) : [Double](repeating: 0, count: line.count)
                for t in 0..<bars {
                    s[t * n + i] = line[t] > reference[t] ? 1 : (config.macdShort ? -1 : 0)
                }
            }
        }
        signal = s
    }

    /// The target for the bar the observation stands on.
    public mutating func action(for observation: MarketObservation) -> TradingAction {
        if kind == .random { return space.sample(using: &rng) }
        let t = observation.bar
        return .weights((0..<n).map { signal[t * n + $0] / Double(n) })
    }
}

/// Exponential moving average, seeded with the first value: eₜ = eₜ₋₁ + α(xₜ − eₜ₋₁), α = 2 / (span + 1).
public func ema(_ x: [Double], span: Int) -> [Double] {
    guard let first = x.first else { return [] }
    let alpha = 2 / (Double(span) + 1)
    var e = first
    return x.map { v in e += alpha * (v - e); return e }
}
