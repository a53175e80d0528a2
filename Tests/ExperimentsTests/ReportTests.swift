import Agents
import Foundation
import MarketData
import RunStore
import Testing
import TradingEnv

@testable import Experiments

/// A one-asset report: the oracle (a stored run with learning metrics) and a fixed half position (no run), on 2020–2021
/// of the synthetic market.
private func syntheticReport() throws -> (html: String, comparison: Comparison) {
    let setup = try MarketSetup(path: try syntheticMarket(up: 1.006, down: 0.996, commissionBps: 5))
    let store = try RunStore(path: try temporaryDirectory() + "/runs.sqlite")
    let run = try store.createRun(
        experiment: "synthetic", agent: "oracle", seed: 1, experimentYAML: "", configJSON: "{}",
        configHash: "abc", codeVersion: "test")
    func metric(_ key: String, _ values: [(Int, Double)]) -> [MetricRecord] {
        values.map { MetricRecord(runId: run.id!, globalStep: Int64($0.0), key: key, value: $0.1) }
    }
    try store.appendMetrics(
        metric("charts/episodicReturn", (1...50).map { ($0 * 100, Double($0) / 50) })
            + metric("losses/td", (1...2_000).map { ($0, 1 / Double($0)) })
            + metric("losses/entropy", [(100, 0.9), (200, 0.7), (300, 0.5)])
            + metric("losses/explained_variance", [(100, 0.1), (300, 0.25)])
            + metric("eval/validation/sharpe", [(1_000, 0.3), (2_000, -0.2), (3_000, 0.6)]))
    var agent = oracle(setup: setup)
    agent.policy.runId = run.id
    let c = try compare(
        [agent, fixedWeight(0.5, name: "half", setup: setup)], reference: setup,
        request: CompareRequest(period: .years([2020, 2021]), resamples: 20))
    return (compact(try htmlReport(c, runs: [run], store: store)), c)
}

/// The page without the whitespace between tags (the renderer indents).
private func compact(_ html: String) -> String {
    html.replacingOccurrences(of: ">\\s+<", with: "><", options: .regularExpression)
}

@Test func htmlReportHasAnSVGInEverySection() throws {
    let (html, c) = try syntheticReport()

    #expect(html.hasPrefix("<!DOCTYPE html>"))
    // no script, no fetch: the only URI is the SVG namespace
    #expect(
        !html.contains("<script") && !html.contains("https://") && !html.contains("src=") && !html.contains("href="))
    #expect(
        html.components(separatedBy: "http://").count
            == html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count)
    let sections = html.components(separatedBy: "<section").dropFirst()
    let ids = sections.compactMap { $0.split(separator: "\"").dropFirst().first.map(String.init) }
    #expect(ids == ["equity", "drawdown", "positions", "years", "rewards", "learning", "significance"])
    for s in sections { #expect(s.contains("<svg"), "section \(s.prefix(40)) has no SVG") }
    // the per-year table has the years, and the learning curves every logged key (the loss decimated to 600 points)
    #expect(html.contains("<h3>2020</h3>") && html.contains("<h3>2021</h3>") && html.contains("<h3>overall</h3>"))
    for key in [
        "charts/episodicReturn", "losses/td", "losses/entropy", "losses/explained_variance",
        "eval/validation/sharpe",
    ] {
        #expect(html.contains("\(key) by training step"), "\(key)")
    }
    let learning = try #require(sections.first { $0.hasPrefix(" id=\"learning\"") })
    let td = try #require(learning.components(separatedBy: "<svg").first { $0.contains("losses/td by training step") })
    let lossPoints = try #require(
        td.components(separatedBy: "points=\"").last?.prefix { $0 != "\"" }.split(separator: " ").count)
    #expect(lossPoints == 600)
    // the oracle flips every bar: one buy or sell marker per trade of the asset
    let oracleChart = try #require(try parsedCharts(html).first { $0.title.hasPrefix("R1:") })
    #expect(oracleChart.trades == c.episodes[0][0].log.trades.count && oracleChart.trades > 400)
    #expect(html.contains("N = 2 trials"))
    // the costs line names the environment file
    let environment = c.episodes[0][0].policy.setup.path
    #expect(html.contains("as in \(environment):") && environment.hasSuffix("/env.yaml"))
}

/// Every chart read back with an XML parser: titled axes, round ticks, whole legends with short labels spelled out in
/// the key, counts from 0, years under the per-year bars, dots on short learning curves, wide tables in a scroll box.
@Test func reportChartsHaveRoundTicksTitledAxesAndWholeLegends() throws {
    let (html, c) = try syntheticReport()
    let charts = try parsedCharts(html)
    #expect(charts.count >= 12)
    for chart in charts { #expect(chartProblems(chart).isEmpty, "\(chartProblems(chart))") }

    let byTitle = { (prefix: String) in charts.first { $0.title.hasPrefix(prefix) } }
    // runs and configurations by short label, the key table spelling them out
    let equity = try #require(byTitle("Equity"))
    #expect(equity.legend == ["R1", "R2"] + singleAssetBaselines.map(\.rawValue))
    #expect(html.contains("<td>R1</td><td>oracle</td><td>run, seed 1, running, configuration C1</td>"))
    #expect(html.contains("<td>R2</td><td>half</td><td>policy, configuration C2</td>"))
    #expect(html.contains("<td>C1</td><td>test/oracle #11111111</td>"))
    #expect(byTitle("PSR and DSR")?.axes["x"]?.ticks == ["C1", "C2"] + singleAssetBaselines.map(\.rawValue))
    // histogram counts start at 0, whole numbers
    let rewards = try #require(byTitle("Per-step rewards"))
    let counts = try #require(rewards.axes["y"]?.ticks.compactMap(Double.init))
    #expect(counts.first == 0 && counts.allSatisfy { $0 >= 0 && $0 == $0.rounded() })
    // the per-year bars are labelled with their years
    let years = c.tables.map(\.period).filter { $0 != "overall" }
    #expect(years == ["2020", "2021"] && byTitle("Total return per year")?.axes["x"]?.ticks == years)
    // a learning curve of 3 points has a dot on each; one of 50 has none
    #expect(byTitle("eval/validation/sharpe")?.dots == 3 && byTitle("charts/episodicReturn")?.dots == 0)
    #expect(byTitle("eval/validation/sharpe")?.axes["x"]?.ticks == ["1000", "1500", "2000", "2500", "3000"])
    // every table scrolls inside its box
    let tables = html.components(separatedBy: "<table").count
    #expect(tables > 4 && tables == html.components(separatedBy: "<div class=\"wide\"><table").count)
    // policy diagnostics: the last logged entropy and explained variance; the oracle changes its action every bar
    // of this market (up and down bars alternate), the fixed position never
    #expect(html.contains("<td>R1</td><td>0.5000</td><td>0.2500</td><td>1.0000</td>"))
    #expect(html.contains("<td>R2</td><td>n/a</td><td>n/a</td><td>0.0000</td>"))
}

/// On a panel the positions section stacks each asset's weight and charts the turnover, with no trade markers.
@Test func panelReportStacksWeightsAndChartsTurnover() throws {
    let setup = try MarketSetup(path: repoRoot + "/environments/us-stocks-daily.yaml")
    let n = setup.dataset.panel.assetCount
    // half in one asset that changes every 20 bars, the other half spread equally
    let rotator = Contender(name: "rotator", group: "test/rotator #22222222", configHash: "22222222", setup: setup) {
        env in
        var env = env
        return runEpisode(&env, seed: 0, keepEvery: 1) { o in
            let w = (0..<n).map { i in 0.5 / Double(n) + (i == (o.bar / 20) % n ? 0.5 : 0) }
            return (.weights(w), w[0])
        }
    }
    let c = try compare([rotator], reference: setup, request: CompareRequest(period: .years([2009]), resamples: 10))
    let store = try RunStore(path: try temporaryDirectory() + "/runs.sqlite")
    let html = compact(try htmlReport(c, runs: [], store: store))
    let charts = try parsedCharts(html)
    for chart in charts { #expect(chartProblems(chart).isEmpty, "\(chartProblems(chart))") }
    #expect(charts.allSatisfy { $0.trades == 0 })

    let section = try #require(html.components(separatedBy: "<section").first { $0.contains("id=\"positions\"") })
    let positions = try parsedCharts(section)
    #expect(positions.map(\.title) == ["R1: weights after each bar", "Turnover per bar, from the second bar"])
    let weights = positions[0]
    #expect(weights.areas == n && weights.legend == setup.dataset.panel.tickers.reversed())
    // long-only weights summing to about 1: the weight axis runs from 0 to 1
    let ticks = try #require(weights.axes["y"]?.ticks.compactMap(Double.init))
    #expect(ticks.first == 0 && ticks.last == 1)
    #expect(positions[1].legend == ["R1"] && positions[1].polylines == 1)
}

@Test func roundTicksByHand() {
    #expect(SVG.ticks(0, 9.3).values == [0, 2, 4, 6, 8, 10])
    #expect(SVG.ticks(90_000, 123_000).values == [90_000, 100_000, 110_000, 120_000, 130_000])
    #expect(SVG.ticks(0, 12, integers: true).values == [0, 5, 10, 15])
    #expect(SVG.ticks(0, 1.1).step == 0.25 && SVG.ticks(0, 11).step == 2.5)
    #expect(SVG.ticks(0, 11, integers: true).step == 5)
    let drawdown = SVG.ticks(-43, 2)
    #expect(drawdown.step == 10 && drawdown.values.first == -50 && drawdown.values.last == 10)
    let flat = SVG.ticks(0.2, 0.2)
    #expect(flat.values.map { SVG.tickLabel($0, step: flat.step) } == ["0.18", "0.19", "0.20", "0.21", "0.22"])
    #expect(SVG.tickLabel(0.1 * 3, step: 0.1) == "0.3" && SVG.tickLabel(2.5, step: 2.5) == "2.5")
    #expect(SVG.tickLabel(-1e-17, step: 0.1) == "0.0")
    #expect(roundTicks(["0", "0.25", "0.50"]) && !roundTicks(["-9", "28", "65"]) && !roundTicks(["0", "3", "6"]))
}

@Test func drawdownsAndBucketMeansByHand() {
    let expected: [Double] = [0, 0, 99.0 / 110 - 1, 0, 110.0 / 121 - 1]
    #expect(drawdowns([100, 110, 99, 121, 110]) == expected)
    let (x, y) = bucketMeans([1, 2, 3, 4, 5, 6], [2, 4, 6, 8, 10, 12], buckets: 3)
    #expect(x == [1.5, 3.5, 5.5] && y == [3, 7, 11])
    #expect(SVG.empty("t").contains("no data"))
}

/// A stored run's environment is named by its file (the costs line of compare and report), not its folder.
@Test func savedRunNamesItsEnvironmentFile() throws {
    var spec = ExperimentSpec()
    spec.environment = "../environments/sp500-daily.yaml"
    var config = ResolvedConfig(
        experiment: spec, environment: EnvironmentSpec(),
        environmentFolder: "/x/experiments/../environments", agent: .dqn(.init()), seed: 1)
    #expect(config.environmentPath == "/x/environments/sp500-daily.yaml")  // a run that did not record it
    config.environmentFile = "/y/environments/other.yaml"
    #expect(config.environmentPath == "/y/environments/other.yaml")
}
