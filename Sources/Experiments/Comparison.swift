import Foundation
import MarketData
import TradingEnv

/// One row of a comparison: a policy's whole-split evaluation.
public struct ComparisonRow: Sendable {
    public var name: String
    public var summary: EpisodeSummary
    public init(name: String, summary: EpisodeSummary) { self.name = name; self.summary = summary }
}

/// Evaluates the baselines (buy-and-hold, flat, momentum, MACD, and on a panel equal weight and minimum variance) on
/// a split with the environment's costs.
public func baselineRows(setup: MarketSetup, split: Split) throws -> [ComparisonRow] {
    let assets = setup.dataset.panel.assetCount
    return try Baseline.allCases.filter { $0 != .random && $0.applies(toAssets: assets) }.map { kind in
        ComparisonRow(name: kind.rawValue, summary: try evaluateBaseline(kind, setup: setup, split: split).summary)
    }
}

/// A table of the rows' headline metrics.
public func comparisonTable(_ rows: [ComparisonRow]) -> TextTable {
    var t = TextTable(header: ["policy", "total return", "annual return", "sharpe", "sortino", "max drawdown", "psr",
                               "turnover", "exposure", "costs", "final equity"])
    func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "n/a" }
    for r in rows {
        let m = r.summary.metrics
        t.append([r.name, f(m.totalReturn), f(m.annualReturn), f(m.sharpe), f(m.sortino), f(m.maxDrawdown), f(m.psr),
                  f(r.summary.turnover), f(r.summary.exposure), String(format: "%.2f", r.summary.costs),
                  String(format: "%.2f", r.summary.finalEquity)])
    }
    return t
}
