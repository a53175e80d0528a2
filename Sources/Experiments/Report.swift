import Foundation
import MarketData
import Plot
import RunStore
import TradingEnv

/// `tradesim report`: one self-contained HTML page (inline SVG, inline CSS, no script, no network) of a comparison on
/// one period: equity curves against the baselines, drawdowns, positions (one asset: over the price, with trade
/// markers; a panel: stacked weights and the turnover), the per-year table, reward histograms, policy diagnostics and
/// learning curves from the runs' metric table, and the PSR / DSR figures. Every section has an SVG. Charts name runs
/// R1, R2… and their configurations C1, C2…; a key table under the header spells the labels out.
public func htmlReport(_ comparison: Comparison, runs: [RunRecord], store: RunStore) throws -> String {
    let episodes = comparison.episodes.first ?? []
    let agents = episodes.filter { $0.policy.isAgent }
    let label = ReportLabels(agents.map(\.policy))
    func curve(_ transform: ([Double]) -> [Double]) -> [SVG.Series] {
        episodes.enumerated().map { k, e in
            SVG.Series(
                name: label(e.policy.name), x: e.log.steps.map { Double($0.timestamp) },
                y: transform(e.log.steps.map(\.equity)), color: SVG.palette[k % SVG.palette.count],
                dashed: !e.policy.isAgent, width: e.policy.isAgent ? 2 : 1.2)
        }
    }
    let equity = SVG.lines(
        "Equity (runs solid, baselines dashed)", curve { $0 }, x: "Date",
        y: "Equity (account currency)")
    let drawdown = SVG.lines(
        "Drawdown from the running peak", curve { drawdowns($0).map { $0 * 100 } }, x: "Date",
        y: "Drawdown (% below the peak)", hLines: [0])
    let overall = comparison.tables.first { $0.period == "overall" }
    let overallRows = overall?.rows ?? []
    let yearTables = comparison.tables.filter { $0.period != "overall" && $0.costBps == overall?.costBps }
    let yearly = SVG.bars(
        "Total return per year", categories: yearTables.map(\.period),
        overallRows.map { row in
            (
                label(row.policy),
                yearTables.map { t in
                    t.rows.first { $0.policy == row.policy }?.stats["totalReturn"]?.mean.map { $0 * 100 }
                }
            )
        }, x: "Year", y: "Total return (%)")
    let unit = Set(agents.map { rewardUnit($0.policy.setup.spec.market.reward.kind) }).sorted()
        .joined(separator: " / ")
    let rewards = SVG.histogram(
        "Per-step rewards of the runs' policies",
        agents.map { (label($0.policy.name), $0.log.steps.map(\.reward)) },
        x: "Reward per step (\(unit))", y: "Steps (count)")
    let diagnostics = try policyDiagnostics(agents, store: store, label: label)
    let learning = try learningCurves(runs, store: store, rewardUnit: unit, label: label)
    let significance = SVG.bars(
        "PSR and DSR (overall); dashed: 0.95", categories: overallRows.map { label($0.policy) },
        [
            ("PSR", overallRows.map { $0.stats["psr"]?.mean }),
            ("DSR", overallRows.map { $0.stats["dsr"]?.mean }),
        ],
        x: "Policy", y: "Probability (0 to 1)", hLines: [0.95])
    let v = overall?.sharpeVariance
    let benchmark = v.flatMap { v in
        comparison.trials >= 2 ? deflatedSharpeBenchmark(trials: comparison.trials, sharpeVariance: v) : nil
    }
    let sr0 =
        benchmark.map {
            String(format: "%.4f per bar, %.2f annualised", $0, $0 * comparison.barsPerYear.squareRoot())
        }
        ?? "n/a (needs N ≥ 2 and V)"
    let dsrNote =
        "N = \(comparison.trials) trials (\(comparison.trialsDefinition)); "
        + "V = \(v.map { String(format: "%.3g", $0) } ?? "n/a") (variance of their per-bar Sharpe ratios); "
        + "SR₀ = \(sr0). "
        + "PSR is the probability that the true Sharpe ratio exceeds 0; DSR that it exceeds SR₀, the best Sharpe ratio "
        + "N unskilled trials would be expected to reach."

    let html = HTML(
        .head(.meta(.charset(.utf8)), .title("tradesim report"), .style(css)),
        .body(
            .h1("tradesim report"),
            .ul(.li(.b("Bars: "), .text(comparison.bars)), .li(.b("Costs: "), .text(comparison.costs))),
            wide(htmlTable(label.key(agents.map(\.policy), runs: runs, rows: overallRows), class: "key")),
            section("equity", "Equity curves against the baselines", .raw(equity)),
            section("drawdown", "Drawdowns", .raw(drawdown)),
            try positionsSection(agents, label: label),
            section(
                "years", "Per-year table",
                .raw(yearly),
                .group(
                    (yearTables + (overall.map { [$0] } ?? [])).map { t in
                        .group(.h3(.text(t.period)), wide(htmlTable(t.table)))
                    })),
            section("rewards", "Reward histogram", .raw(rewards)),
            section(
                "learning", "Learning curves (metric table)",
                .p(
                    .text(
                        "Policy entropy and explained variance: the last value the run logged (PPO, A2C and "
                            + "REINFORCE log them); action changes: the share of the report's bars at which the "
                            + "policy's action differs from the bar before (discrete: the action index; weights: the "
                            + "first target weight).")),
                wide(htmlTable(diagnostics)), .group(learning.map { .raw($0) })),
            section("significance", "Probabilistic and Deflated Sharpe Ratios", .raw(significance), .p(.text(dsrNote)))
        )
    )
    return html.render(indentedBy: .spaces(1))
}

/// A self-contained HTML page (`tradesim sweep results --report`): a title, lines of text, tables and histograms
/// (each of values in equal bins, with its x-axis title), in that order.
public func htmlPage(
    title: String, lines: [String], tables: [(title: String, table: TextTable)],
    histograms: [(title: String, values: [Double], x: String)]
) -> String {
    let html = HTML(
        .head(.meta(.charset(.utf8)), .title(title), .style(css)),
        .body(
            .h1(.text(title)),
            .ul(.forEach(lines) { .li(.text($0)) }),
            .forEach(tables) { t in section(t.title, t.title, wide(htmlTable(t.table))) },
            .forEach(histograms) { h in
                section(h.title, h.title, .raw(SVG.histogram(h.title, [(h.title, h.values)], x: h.x, y: "Count")))
            }
        )
    )
    return html.render(indentedBy: .spaces(1))
}

/// The positions section: one asset, each run's position over the price with its trades; a panel, each run's stacked
/// weights and one chart of the runs' turnover.
private func positionsSection(_ agents: [(policy: ComparedPolicy, log: EpisodeLog)], label: ReportLabels) throws
    -> Node<HTML.BodyContext>
{
    if (agents.first?.policy.setup.dataset.panel.assetCount ?? 1) == 1 {
        return section(
            "positions", "Positions over price, with trades",
            .p(
                .text(
                    "Close of the asset; shading: long (green) or short (red) after each decision; "
                        + "triangles: buys and sells.")),
            .group(agents.map { .raw(positionChart(label($0.policy.name), $0.policy, $0.log)) }))
    }
    let weights = try agents.map { try weightsChart(label($0.policy.name), $0.policy, $0.log) }
    return section(
        "positions", "Portfolio weights and turnover",
        .p(
            .text(
                "Each asset's weight after each bar (the rest is cash; shorts stack below 0), and the "
                    + "traded notional per bar after the first (which buys in from cash).")),
        .group((weights + [turnoverChart(agents, label)]).map { .raw($0) }))
}

/// The charts' short names: R1, R2… for the compared runs (in order) and C1, C2… for their configurations (the tables'
/// row groups); baselines keep their own names.
struct ReportLabels {
    private var labels: [String: String] = [:]

    init(_ agents: [ComparedPolicy]) {
        var configurations = 0
        for (k, c) in agents.enumerated() {
            labels[c.name] = "R\(k + 1)"
            if labels[c.group] == nil {
                configurations += 1
                labels[c.group] = "C\(configurations)"
            }
        }
    }

    /// The label of a run, configuration or baseline name.
    func callAsFunction(_ name: String) -> String { labels[name] ?? name }

    /// The key: each run's label, name, seed and status, then each configuration's label, name and runs.
    func key(_ agents: [ComparedPolicy], runs: [RunRecord], rows: [CompareRow]) -> TextTable {
        var t = TextTable(header: ["label", "name", "what"])
        for c in agents {
            let run = runs.first { $0.id == c.runId }
            let about = run.map { "run, seed \($0.seed), \($0.status.rawValue)" } ?? "policy"
            t.append([self(c.name), c.name, about + ", configuration \(self(c.group))"])
        }
        for row in rows where row.kind == "agent" {
            let members = row.runs.map { self($0) }.joined(separator: ", ")
            t.append([
                self(row.policy), row.policy,
                "configuration of " + members
                    + (row.runs.count > 1 ? " (the tables give their mean and sample std)" : ""),
            ])
        }
        return t
    }
}

/// The unit of one step's reward under a reward scheme.
func rewardUnit(_ kind: RewardKind) -> String {
    switch kind {
    case .logReturn: "log return of equity"
    case .pnl: "fraction of initial cash"
    case .volScaled: "σ_tgt units"
    case .differentialSharpe: "differential Sharpe ratio"
    }
}

private func section(_ id: String, _ title: String, _ nodes: Node<HTML.BodyContext>...) -> Node<HTML.BodyContext> {
    .section(.id(id), .h2(.text(title)), .group(nodes))
}

/// A box that scrolls sideways when its content is wider than the page.
private func wide(_ node: Node<HTML.BodyContext>) -> Node<HTML.BodyContext> { .div(.class("wide"), node) }

/// A text table as HTML (numbers right-aligned unless `class` is `key`); a `mean ± std` cell keeps the std on a second,
/// smaller line.
private func htmlTable(_ t: TextTable, class name: String = "numbers") -> Node<HTML.BodyContext> {
    func cell(_ text: String) -> Node<HTML.BodyContext> {
        let parts = text.components(separatedBy: " ± ")
        return parts.count == 2 ? .group(.text(parts[0]), .br(), .small(.text("± " + parts[1]))) : .text(text)
    }
    return .table(
        .class(name), .tr(.group(t.header.map { .th(.text($0)) })),
        .group(t.rows.map { row in .tr(.group(row.map { .td(cell($0)) })) }))
}

/// Wₜ / maxₛ≤ₜ Wₛ − 1 of an equity series.
func drawdowns(_ equity: [Double]) -> [Double] {
    var peak = -Double.infinity
    return equity.map {
        peak = max(peak, $0); return $0 / peak - 1
    }
}

/// A one-asset run: the close at each step, shaded by the position held after it, with a marker per fill.
func positionChart(_ label: String, _ c: ComparedPolicy, _ log: EpisodeLog) -> String {
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
    return SVG.lines(
        "\(label): \(panel.tickers[0]) close and position",
        [SVG.Series(name: "close", x: x, y: price, color: "#333")],
        x: "Date", y: "Close (price currency)", bands: bands, markers: markers,
        legend: [("long", "#2ca02c"), ("short", "#d62728")])
}

/// A panel run: every asset's weight after each step (the steps' `positionsJSON`, N weights each), stacked.
func weightsChart(_ label: String, _ c: ComparedPolicy, _ log: EpisodeLog) throws -> String {
    let tickers = c.setup.dataset.panel.tickers
    let weights = try log.steps.map { try JSONDecoder().decode([Double].self, from: Data($0.positionsJSON.utf8)) }
    return SVG.stackedArea(
        "\(label): weights after each bar", x: log.steps.map { Double($0.timestamp) },
        tickers.indices.map { i in (tickers[i], weights.map { $0[i] }) },
        x: "Date", y: "Weight (fraction of equity)")
}

/// The runs' per-bar turnover (traded notional over equity before the trade) from the second bar on: the first buys in
/// from cash (turnover about 1) and would flatten the rest.
func turnoverChart(_ agents: [(policy: ComparedPolicy, log: EpisodeLog)], _ label: ReportLabels) -> String {
    let series = agents.enumerated().map { k, a in
        SVG.Series(
            name: label(a.policy.name), x: a.log.steps.dropFirst().map { Double($0.timestamp) },
            y: Array(a.log.turnovers.dropFirst()), color: SVG.palette[k % SVG.palette.count])
    }
    return SVG.lines(
        "Turnover per bar, from the second bar", series, x: "Date", y: "Turnover (traded notional / equity)")
}

/// Per compared run: its last logged policy entropy and explained variance, and the share of the episode's decisions
/// after the first that differ from the one before (`StepRecord.action`: the discrete index, or the first weight).
func policyDiagnostics(_ agents: [(policy: ComparedPolicy, log: EpisodeLog)], store: RunStore, label: ReportLabels)
    throws
    -> TextTable
{
    let ids = agents.compactMap(\.policy.runId)
    let entropy = try store.lastMetric("losses/entropy", runIds: ids)
    let explained = try store.lastMetric("losses/explained_variance", runIds: ids)
    var t = TextTable(header: ["run", "policy entropy (nats)", "explained variance", "action changes (share of bars)"])
    for a in agents {
        let actions = a.log.steps.map(\.action)
        let changes = zip(actions, actions.dropFirst()).filter { $0 != $1 }.count
        t.append([
            label(a.policy.name), cell(a.policy.runId.flatMap { entropy[$0] }),
            cell(a.policy.runId.flatMap { explained[$0] }),
            cell(actions.count > 1 ? Double(changes) / Double(actions.count - 1) : nil),
        ])
    }
    return t
}

/// The learning metrics charted against the training step, with their y-axis titles (`{reward}`: the reward's unit).
let learningMetrics: [(key: String, y: String)] = [
    ("charts/episodicReturn", "Episode return (Σ rewards, {reward})"),
    ("losses/td", "TD loss (Huber or squared TD error)"),
    ("losses/policy", "Policy loss (advantage units)"),
    ("losses/value", "Value loss (squared return units)"),
    ("losses/entropy", "Policy entropy (nats)"),
    ("losses/explained_variance", "Explained variance (fraction, 1 = exact)"),
    ("eval/validation/sharpe", "Validation Sharpe ratio (annualised)"),
]

/// One chart per learning metric the runs logged, a line per run, at most 600 points each (means of equal buckets).
func learningCurves(_ runs: [RunRecord], store: RunStore, rewardUnit: String, label: ReportLabels) throws -> [String] {
    var charts: [String] = []
    for (key, y) in learningMetrics {
        var series: [SVG.Series] = []
        for (k, run) in runs.enumerated() {
            let m = try store.metrics(runId: run.id!, key: key).filter { $0.value.isFinite }
            guard !m.isEmpty else { continue }
            let (x, y) = bucketMeans(m.map { Double($0.globalStep) }, m.map(\.value), buckets: 600)
            series.append(SVG.Series(name: label(run.name), x: x, y: y, color: SVG.palette[k % SVG.palette.count]))
        }
        if !series.isEmpty {
            charts.append(
                SVG.lines(
                    "\(key) by training step", series, x: "Training step (environment steps)",
                    xScale: .numbers(integers: true),
                    y: y.replacingOccurrences(of: "{reward}", with: rewardUnit)))
        }
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
    svg { display: block; margin: 8px 0; border: 1px solid #ddd; max-width: 100%; height: auto; }
    .wide { max-width: 100%; overflow-x: auto; }
    table { border-collapse: collapse; font-size: 12px; margin: 6px 0 14px; }
    th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; white-space: nowrap; }
    small { color: #666; }
    th:first-child, td:first-child, table.key td, table.key th { text-align: left; }
    h3 { margin: 12px 0 2px; font-size: 14px; }
    """
