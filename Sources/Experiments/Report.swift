import Foundation
import MarketData
import Plot
import RunStore

/// `tradesim report`: one self-contained HTML page (inline SVG, inline CSS, no script, no network) of a comparison on one
/// period: equity curves against the baselines, drawdowns, positions over price with trade markers, the per-year table,
/// reward histograms, learning curves from the runs' metric table, and the PSR / DSR figures. Every section has an SVG.
public func htmlReport(_ comparison: Comparison, runs: [RunRecord], store: RunStore) throws -> String {
    let episodes = comparison.episodes.first ?? []
    let agents = episodes.filter { $0.contender.isAgent }
    let styleOf = { (k: Int, c: Contender) -> (String, Bool) in
        (SVG.palette[k % SVG.palette.count], !c.isAgent)
    }
    func curve(_ transform: ([Double]) -> [Double]) -> [SVG.Series] {
        episodes.enumerated().map { k, e in
            let (color, dashed) = styleOf(k, e.contender)
            return SVG.Series(name: e.contender.name, x: e.log.steps.map { Double($0.timestamp) }, y: transform(e.log.steps.map(\.equity)),
                              color: color, dashed: dashed, width: e.contender.isAgent ? 2 : 1.2)
        }
    }
    let equity = SVG.lines("Equity (runs solid, baselines dashed)", curve { $0 }, yFormat: "%.0f")
    let drawdown = SVG.lines("Drawdown from the running peak", curve(drawdowns), yFormat: "%.2f", hLines: [0])
    let positions = agents.map { positionChart($0.contender, $0.log) }
    let overall = comparison.tables.first { $0.period == "overall" }
    let yearTables = comparison.tables.filter { $0.period != "overall" && $0.costBps == overall?.costBps }
    let yearly = SVG.bars("Total return per year", categories: yearTables.map(\.period),
                          (overall?.rows ?? []).map { row in
                              (row.policy, yearTables.map { t in t.rows.first { $0.policy == row.policy }?.stats["totalReturn"]?.mean })
                          }, yFormat: "%.2f")
    let rewards = SVG.histogram("Per-step rewards of the runs' policies", agents.map { ($0.contender.name, $0.log.steps.map(\.reward)) })
    let learning = try learningCurves(runs, store: store)
    let significance = SVG.bars("PSR and DSR (overall); dashed: 0.95", categories: (overall?.rows ?? []).map(\.policy),
                                [("PSR", (overall?.rows ?? []).map { $0.stats["psr"]?.mean }), ("DSR", (overall?.rows ?? []).map { $0.stats["dsr"]?.mean })],
                                yFormat: "%.2f", hLines: [0.95])
    let v = overall?.sharpeVariance
    let benchmark = v.flatMap { v in comparison.trials >= 2 ? deflatedSharpeBenchmark(trials: comparison.trials, sharpeVariance: v) : nil }
    let dsrNote = "N = \(comparison.trials) trials (runs in the store evaluated on the same split, with the runs compared); "
        + "V = \(v.map { String(format: "%.3g", $0) } ?? "n/a") (variance of their per-bar Sharpe ratios); "
        + "SR₀ = \(benchmark.map { String(format: "%.4f per bar, %.2f annualised", $0, $0 * 252.0.squareRoot()) } ?? "n/a (needs N ≥ 2 and V)"). "
        + "PSR is the probability that the true Sharpe ratio exceeds 0; DSR that it exceeds SR₀, the best Sharpe ratio N "
        + "unskilled trials would be expected to reach."

    let html = HTML(
        .head(.meta(.charset(.utf8)), .title("tradesim report"), .style(css)),
        .body(
            .h1("tradesim report"),
            .ul(.li(.b("Bars: "), .text(comparison.bars)), .li(.b("Costs: "), .text(comparison.costs)),
                .li(.b("Runs: "), .text(runs.map { "\($0.name) (\($0.status.rawValue), config #\(seedlessConfigHash($0.configJSON).prefix(8)))" }.joined(separator: "; ")))),
            section("equity", "Equity curves against the baselines", .raw(equity)),
            section("drawdown", "Drawdowns", .raw(drawdown)),
            section("positions", "Positions over price, with trades",
                    .p("Close of the first asset; shading: long (green) or short (red) after each decision; triangles: buys and sells."),
                    .group(positions.map { .raw($0) })),
            section("years", "Per-year table",
                    .raw(yearly), .group((yearTables + (overall.map { [$0] } ?? [])).map { t in
                        .group(.h3(.text(t.period)), htmlTable(t.table))
                    })),
            section("rewards", "Reward histogram", .raw(rewards)),
            section("learning", "Learning curves (metric table)", .group(learning.map { .raw($0) })),
            section("significance", "Probabilistic and Deflated Sharpe Ratios", .raw(significance), .p(.text(dsrNote)))
        )
    )
    return html.render(indentedBy: .spaces(1))
}

private func section(_ id: String, _ title: String, _ nodes: Node<HTML.BodyContext>...) -> Node<HTML.BodyContext> {
    .section(.id(id), .h2(.text(title)), .group(nodes))
}

/// A text table as HTML; a `mean ± std` cell keeps the std on a second, smaller line.
private func htmlTable(_ t: TextTable) -> Node<HTML.BodyContext> {
    func cell(_ text: String) -> Node<HTML.BodyContext> {
        let parts = text.components(separatedBy: " ± ")
        return parts.count == 2 ? .group(.text(parts[0]), .br(), .small(.text("± " + parts[1]))) : .text(text)
    }
    return .table(.tr(.group(t.header.map { .th(.text($0)) })), .group(t.rows.map { row in .tr(.group(row.map { .td(cell($0)) })) }))
}

/// Wₜ / maxₛ≤ₜ Wₛ − 1 of an equity series.
func drawdowns(_ equity: [Double]) -> [Double] {
    var peak = -Double.infinity
    return equity.map { peak = max(peak, $0); return $0 / peak - 1 }
}

/// The first asset's close at each step, shaded by the position held after it, with a marker per fill of that asset.
func positionChart(_ c: Contender, _ log: EpisodeLog) -> String {
    let panel = c.setup.dataset.panel, n = panel.assetCount
    let x = log.steps.map { Double($0.timestamp) }
    let price = log.steps.map { panel.close[Int($0.barIndex) * n] }
    var bands: [SVG.Band] = []
    for (k, s) in log.steps.enumerated() where s.position != 0 && k + 1 < log.steps.count {
        bands.append(SVG.Band(x0: x[k], x1: x[k + 1], color: s.position > 0 ? "#2ca02c" : "#d62728"))
    }
    let markers = log.trades.filter { $0.asset == panel.tickers[0] }.map {
        SVG.Marker(x: Double($0.timestamp), y: $0.price, up: $0.quantity > 0)
    }
    return SVG.lines("\(c.name): \(panel.tickers[0]) close and position", [SVG.Series(name: "close", x: x, y: price, color: "#333")],
                     yFormat: "%.0f", bands: bands, markers: markers, legend: [("long", "#2ca02c"), ("short", "#d62728")])
}

/// One chart per learning metric the runs logged (episode returns, losses, validation Sharpe), a line per run, at most
/// 600 points each (means of equal buckets).
func learningCurves(_ runs: [RunRecord], store: RunStore) throws -> [String] {
    let keys = ["charts/episodicReturn", "losses/td", "losses/policy", "losses/value", "eval/validation/sharpe"]
    var charts: [String] = []
    for key in keys {
        var series: [SVG.Series] = []
        for (k, run) in runs.enumerated() {
            let m = try store.metrics(runId: run.id!, key: key).filter { $0.value.isFinite }
            guard !m.isEmpty else { continue }
            let (x, y) = bucketMeans(m.map { Double($0.globalStep) }, m.map(\.value), buckets: 600)
            series.append(SVG.Series(name: run.name, x: x, y: y, color: SVG.palette[k % SVG.palette.count]))
        }
        if !series.isEmpty { charts.append(SVG.lines("\(key) by training step", series, xAxis: .number)) }
    }
    return charts.isEmpty ? [SVG.empty("No learning metrics logged")] : charts
}

/// Means of x and y over `buckets` consecutive equal groups (the series itself when it is shorter).
func bucketMeans(_ x: [Double], _ y: [Double], buckets: Int) -> ([Double], [Double]) {
    guard x.count > buckets else { return (x, y) }
    var bx: [Double] = [], by: [Double] = []
    for b in 0..<buckets {
        let r = (b * x.count / buckets)..<((b + 1) * x.count / buckets)
        bx.append(x[r].reduce(0, +) / Double(r.count))
        by.append(y[r].reduce(0, +) / Double(r.count))
    }
    return (bx, by)
}

private let css = """
    body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1400px; }
    section { margin: 28px 0; }
    svg { display: block; margin: 8px 0; border: 1px solid #ddd; }
    table { border-collapse: collapse; font-size: 12px; margin: 6px 0 14px; }
    th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; white-space: nowrap; }
    small { color: #666; }
    th:first-child, td:first-child { text-align: left; }
    h3 { margin: 12px 0 2px; font-size: 14px; }
    """
