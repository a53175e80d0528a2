import Foundation
import MarketData
import RLCore
import RunStore
import TradingEnv

/// Collects one episode of a `MarketEnv` as it runs: the per-bar returns for metrics, and (when kept) the step and
/// trade rows for the run store. Per-step rows can be decimated (`keepEvery` k: every k-th step; 0: none), trades are
/// always kept when steps are.
public struct EpisodeLog {
    public let keepEvery: Int
    public private(set) var steps: [StepRecord] = []
    public private(set) var trades: [TradeRecord] = []
    /// Per-bar simple returns of equity (after costs).
    public private(set) var returns: [Double] = []
    public private(set) var totalReward = 0.0
    public private(set) var costs = 0.0
    public private(set) var finalEquity = 0.0
    /// The equity the episode started from.
    public private(set) var initialEquity = 0.0
    /// Σ turnover / bars.
    public private(set) var turnoverSum = 0.0
    /// Σ gross exposure Σ|wᵢ| / bars.
    public private(set) var exposureSum = 0.0
    /// Per-step turnover and gross exposure (for metrics over part of the episode, e.g. one year).
    public private(set) var turnovers: [Double] = []
    public private(set) var exposures: [Double] = []
    public private(set) var firstTimestamp: Int64 = 0
    public private(set) var lastTimestamp: Int64 = 0
    /// Bars a year of the environment's data, to annualise the metrics.
    public let barsPerYear: Double
    var hash = FNV1a()
    var previousEquity: Double

    /// Starts an episode whose environment was just reset.
    public init(env: MarketEnv, keepEvery: Int) {
        self.keepEvery = keepEvery
        barsPerYear = env.barsPerYear
        previousEquity = env.equity
        finalEquity = env.equity
        initialEquity = env.equity
        firstTimestamp = env.timestamp(ofBar: env.bar)
        lastTimestamp = firstTimestamp
    }

    /// Records a step the environment just took; `action` is the agent's action as a number (the discrete index, or the
    /// first weight of a continuous action).
    public mutating func record(_ step: Step<MarketObservation, StepInfo>, action: Double, env: MarketEnv) {
        let info = step.info
        returns.append(info.equity / previousEquity - 1)
        previousEquity = info.equity
        totalReward += step.reward
        costs += info.cost
        finalEquity = info.equity
        turnoverSum += info.turnover
        let weights = step.observation.weights, exposure = weights.reduce(0) { $0 + abs($1) }
        exposureSum += exposure
        turnovers.append(info.turnover)
        exposures.append(exposure)
        lastTimestamp = info.timestamp
        hash.add(action)
        guard keepEvery > 0, returns.count % keepEvery == 0 || step.done else { return }
        steps.append(
            StepRecord(
                barIndex: Int64(info.bar), timestamp: info.timestamp, action: action, position: info.position,
                positionsJSON: weights.count > 1 ? "[" + weights.map { "\($0)" }.joined(separator: ",") + "]" : "",
                fillPrice: info.fillPrice, reward: step.reward, equity: info.equity, cost: info.cost))
        for (i, fill) in env.lastFills.enumerated() where fill.quantity != 0 {
            trades.append(
                TradeRecord(
                    barIndex: Int64(info.bar), timestamp: info.timestamp, asset: env.tickers[i],
                    quantity: fill.quantity, price: fill.price, cost: fill.cost))
        }
    }

    /// Consecutive episodes (walk-forward windows' test episodes, in order) as one, with the capital carried from each
    /// to the next: each episode's equity, costs and trade sizes are scaled by the stitched equity at its start over
    /// its own initial equity, so the stitched final equity over the first initial equity is the product of the
    /// episodes' final over initial equities; returns, turnovers and exposures are concatenated. Every episode must
    /// keep all its steps.
    public static func stitched(_ logs: [EpisodeLog]) -> EpisodeLog {
        var out = logs[0]
        out.steps = []
        out.trades = []
        out.returns = []
        out.turnovers = []
        out.exposures = []
        (out.totalReward, out.costs, out.turnoverSum, out.exposureSum) = (0, 0, 0, 0)
        out.hash = FNV1a()
        var capital = logs[0].initialEquity
        for log in logs {
            let scale = capital / log.initialEquity
            out.steps += log.steps.map { s in
                var s = s
                (s.equity, s.cost) = (s.equity * scale, s.cost * scale)
                out.hash.add(s.action)
                return s
            }
            out.trades += log.trades.map { t in
                var t = t
                (t.quantity, t.cost) = (t.quantity * scale, t.cost * scale)
                return t
            }
            out.returns += log.returns
            out.turnovers += log.turnovers
            out.exposures += log.exposures
            out.totalReward += log.totalReward
            out.costs += log.costs * scale
            out.turnoverSum += log.turnoverSum
            out.exposureSum += log.exposureSum
            capital = log.finalEquity * scale
        }
        out.finalEquity = capital
        out.lastTimestamp = logs[logs.count - 1].lastTimestamp
        out.previousEquity = capital
        return out
    }

    /// The number of steps recorded.
    public var length: Int { returns.count }
    /// A hex digest of the action sequence (FNV-1a 64 over the actions' bit patterns), for replay verification.
    public var actionsHash: String { hash.hex }

    /// The metrics of the episode's equity returns, plus trading statistics.
    public var summary: EpisodeSummary {
        EpisodeSummary(
            metrics: PerformanceMetrics(returns: returns, periods: barsPerYear), finalEquity: finalEquity, costs: costs,
            turnover: length > 0 ? turnoverSum / Double(length) : 0,
            exposure: length > 0 ? exposureSum / Double(length) : 0, steps: length, actionsHash: actionsHash)
    }

    /// The episode row for the store.
    public func record(runId: Int64, split: EpisodeSplit, index: Int, globalStep: Int) -> EpisodeRecord {
        EpisodeRecord(
            runId: runId, split: split, index: Int64(index), firstTimestamp: firstTimestamp,
            lastTimestamp: lastTimestamp, steps: Int64(length), totalReward: totalReward,
            finalEquity: finalEquity, costs: costs, globalStep: Int64(globalStep), actionsHash: actionsHash)
    }
}

/// What one evaluated episode amounts to.
public struct EpisodeSummary: Codable, Sendable, Equatable {
    public var metrics: PerformanceMetrics
    public var finalEquity: Double
    public var costs: Double
    /// Mean per-bar turnover (traded notional / equity).
    public var turnover: Double
    /// Mean gross exposure Σ|wᵢ|.
    public var exposure: Double
    public var steps: Int
    public var actionsHash: String
}

/// 64-bit FNV-1a (the actions hash of an episode, the config hash of a run).
struct FNV1a {
    var state: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(byte: UInt8) {
        state ^= UInt64(byte)
        state = state &* 0x0000_0100_0000_01b3
    }
    /// A Double's 8 bytes of bit pattern, least significant first.
    mutating func add(_ x: Double) {
        var bits = x.bitPattern
        for _ in 0..<8 { add(byte: UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
    }
    var hex: String { String(state, radix: 16).leftPadded(to: 16) }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
