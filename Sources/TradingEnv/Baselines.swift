import Foundation
import RLCore

/// The rule-based strategies every agent is compared with.
public enum Baseline: String, Codable, Sendable, CaseIterable {
    /// Weight 1 on one asset, 1/N on each asset of a panel, bought at the first bar and then held (no rebalancing:
    /// the weights drift with prices).
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
    /// A panel only: 1/N of min(1, leverage cap) in every asset, rebalanced back to it at every bar.
    case equalWeight
    /// A panel only: the long-only minimum-variance portfolio (`minimumVarianceWeights`) of the shrunk covariance of
    /// daily log returns over the TRAIN bars, fully invested up to the leverage cap, held at constant weights.
    case minimumVariance

    /// Whether the baseline means anything on an environment of `assets` assets (the portfolio ones need a panel).
    public func applies(toAssets assets: Int) -> Bool {
        switch self {
        case .equalWeight, .minimumVariance: assets > 1
        default: true
        }
    }
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
    /// δ of the minimum-variance covariance: (1 − δ)·S + δ·(tr S / N)·I, S the sample covariance.
    public var minimumVarianceShrinkage: Double = 0.1

    public init() {}
}

/// A baseline as a policy: `action(for:)` reads only prices at or before the observation's bar.
///
/// Signals are computed once for the whole series by causal recursions (value at t uses closes ≤ t), so the policy
/// costs nothing per step; a panel spreads the gross exposure equally: wᵢ = signalᵢ / N. The portfolio baselines hold
/// fixed weights: budget / N, or the minimum-variance weights fitted on `train` (bars of the TRAIN split, which must be
/// given).
public struct BaselinePolicy: Sendable {
    public let kind: Baseline
    let n: Int
    /// (D, N) signal in [−1, 1] per asset and bar.
    let signal: [Double]
    let space: TradingActionSpace
    var rng: Xoshiro256

    public init(
        _ kind: Baseline, env: MarketEnv, config: BaselineConfig = BaselineConfig(), seed: UInt64 = 0,
        train: Range<Int>? = nil
    ) {
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
        case .equalWeight, .minimumVariance:
            let budget = min(1, space.maxGrossLeverage)
            var w = [Double](repeating: budget / Double(n), count: n)
            if kind == .minimumVariance {
                guard let train else {
                    preconditionFailure("the minimum-variance baseline is fitted on the train bars: pass them")
                }
                let covariance = shrunkCovariance(
                    logReturnsOf: closes, assets: n, bars: train,
                    shrinkage: config.minimumVarianceShrinkage)
                w = minimumVarianceWeights(covariance: covariance, assets: n, budget: budget)
            }
            for k in s.indices { s[k] = Double(n) * w[k % n] }
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
                let reference =
                    config.macdSignal > 0
                    ? ema(line, span: config.macdSignal) : [Double](repeating: 0, count: line.count)
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
        if kind == .buyAndHold && observation.weights.contains(where: { $0 != 0 }) { return .hold }
        return .weights((0..<n).map { signal[t * n + $0] / Double(n) })
    }
}

/// Exponential moving average, seeded with the first value: eₜ = eₜ₋₁ + α(xₜ − eₜ₋₁), α = 2 / (span + 1).
public func ema(_ x: [Double], span: Int) -> [Double] {
    guard let first = x.first else { return [] }
    let alpha = 2 / (Double(span) + 1)
    var e = first
    return x.map { v in
        e += alpha * (v - e); return e
    }
}

/// The sample covariance (N,N) of the daily log returns log(cₜ/cₜ₋₁) of every asset over `bars` (closes (D,N);
/// returns of the bars after the first), shrunk towards the scaled identity: (1 − δ)·S + δ·(tr S / N)·I.
public func shrunkCovariance(logReturnsOf closes: [Double], assets n: Int, bars: Range<Int>, shrinkage delta: Double)
    -> [Double]
{
    precondition(bars.count >= 3, "a covariance needs at least three bars")
    let m = bars.count - 1
    var r = [Double](repeating: 0, count: m * n), mean = [Double](repeating: 0, count: n)
    for (row, t) in bars.dropFirst().enumerated() {
        for i in 0..<n {
            let x = log(closes[t * n + i] / closes[(t - 1) * n + i])
            r[row * n + i] = x
            mean[i] += x / Double(m)
        }
    }
    var s = [Double](repeating: 0, count: n * n)
    for row in 0..<m {
        for i in 0..<n {
            let a = r[row * n + i] - mean[i]
            for j in i..<n { s[i * n + j] += a * (r[row * n + j] - mean[j]) }
        }
    }
    var trace = 0.0
    for i in 0..<n {
        for j in i..<n { s[i * n + j] /= Double(m - 1); s[j * n + i] = s[i * n + j] }
        trace += s[i * n + i]
    }
    for k in s.indices { s[k] *= 1 - delta }
    for i in 0..<n { s[i * n + i] += delta * trace / Double(n) }
    return s
}

/// argmin wᵀΣw subject to w ≥ 0, Σw = budget (Σ (N,N) symmetric positive semi-definite), by accelerated projected
/// gradient (FISTA): step 1/L with L = max row sum of |Σ| ≥ λ_max, each step projected onto the scaled simplex
/// (`projectOntoSimplex`); stops when no weight moves by more than 1e-13·budget, or after 100,000 steps.
public func minimumVarianceWeights(covariance sigma: [Double], assets n: Int, budget: Double) -> [Double] {
    precondition(sigma.count == n * n && budget > 0, "covariance must be (N,N) and the budget positive")
    var lipschitz = 0.0
    for i in 0..<n { lipschitz = max(lipschitz, (0..<n).reduce(0) { $0 + abs(sigma[i * n + $1]) }) }
    var w = [Double](repeating: budget / Double(n), count: n)
    guard lipschitz > 0 else { return w }
    var y = w, momentum = 1.0
    var next = w
    for _ in 0..<100_000 {
        for i in 0..<n {
            var g = 0.0
            for j in 0..<n { g += sigma[i * n + j] * y[j] }
            next[i] = y[i] - g / lipschitz  // ∇(wᵀΣw) = 2Σw has Lipschitz constant 2L: step 1/(2L)
        }
        projectOntoSimplex(&next, total: budget)
        let nextMomentum = (1 + (1 + 4 * momentum * momentum).squareRoot()) / 2
        var moved = 0.0
        for i in 0..<n {
            moved = max(moved, abs(next[i] - w[i]))
            y[i] = next[i] + (momentum - 1) / nextMomentum * (next[i] - w[i])
        }
        momentum = nextMomentum
        swap(&w, &next)
        if moved <= 1e-13 * budget { break }
    }
    return w
}

/// The Euclidean projection of v (N) onto {w ≥ 0, Σw = total} (Duchi et al. 2008): w = max(v − θ, 0) with θ from the
/// sorted values.
public func projectOntoSimplex(_ v: inout [Double], total: Double) {
    let sorted = v.sorted(by: >)
    var cumulative = 0.0, theta = 0.0
    for (k, u) in sorted.enumerated() {
        cumulative += u
        let t = (cumulative - total) / Double(k + 1)
        if u - t > 0 { theta = t }
    }
    for i in v.indices { v[i] = max(v[i] - theta, 0) }
}
