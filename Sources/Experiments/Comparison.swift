import Foundation
import MarketData
import TradingEnv

/// One row of a comparison: a policy's whole-split evaluation.
public struct ComparisonRow: Sendable {
    public var name: String
    public var summary: EpisodeSummary
    public init(name: String, summary: EpisodeSummary) { self.name = name; self.summary = summary }
}

/// Evaluates every compared baseline (`comparedBaselines(for:)`) on a split with the environment's costs.
public func baselineRows(setup: MarketSetup, split: Split) throws -> [ComparisonRow] {
    try comparedBaselines(for: setup).map { kind in
        ComparisonRow(name: kind.rawValue, summary: try evaluateBaseline(kind, setup: setup, split: split).summary)
    }
}

/// A table of the rows' headline metrics.
public func comparisonTable(_ rows: [ComparisonRow]) -> TextTable {
    var t = TextTable(header: ["policy", "total return", "annual return", "sharpe", "sortino", "max drawdown", "psr",
                               "turnover", "exposure", "costs", "final equity"])
    for r in rows {
        let m = r.summary.metrics
        t.append([r.name, cell(m.totalReturn), cell(m.annualReturn), cell(m.sharpe), cell(m.sortino), cell(m.maxDrawdown), cell(m.psr),
                  cell(r.summary.turnover), cell(r.summary.exposure), String(format: "%.2f", r.summary.costs),
                  String(format: "%.2f", r.summary.finalEquity)])
    }
    return t
}
