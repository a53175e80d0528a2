import Foundation
import MarketData
import RunStore
import Testing
import TradingEnv
@testable import Experiments

@Test func htmlReportHasAnSVGInEverySection() throws {
    let setup = try MarketSetup(path: try syntheticMarket(up: 1.006, down: 0.996, commissionBps: 5))
    let store = try RunStore(path: try temporaryDirectory() + "/runs.sqlite")
    let run = try store.createRun(experiment: "synthetic", agent: "oracle", seed: 1, experimentYAML: "", configJSON: "{}",
                                  configHash: "abc", codeVersion: "test")
    let returns: [MetricRecord] = (1...50).map { k in
        MetricRecord(runId: run.id!, globalStep: Int64(k * 100), key: "charts/episodicReturn", value: Double(k) / 50)
    }
    let losses: [MetricRecord] = (1...2_000).map { k in
        MetricRecord(runId: run.id!, globalStep: Int64(k), key: "losses/td", value: 1 / Double(k))
    }
    try store.appendMetrics(returns + losses)
    var agent = oracle(setup: setup)
    agent.runId = run.id
    let c = try compare([agent], reference: setup, request: CompareRequest(period: .years([2020, 2021]), resamples: 20))
    let html = try htmlReport(c, runs: [run], store: store)

    #expect(html.hasPrefix("<!DOCTYPE html>"))
    // no script, no fetch: the only URI is the SVG namespace
    #expect(!html.contains("<script") && !html.contains("https://") && !html.contains("src=") && !html.contains("href="))
    #expect(html.components(separatedBy: "http://").count == html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count)
    let sections = html.components(separatedBy: "<section").dropFirst()
    let ids = sections.compactMap { $0.split(separator: "\"").dropFirst().first.map(String.init) }
    #expect(ids == ["equity", "drawdown", "positions", "years", "rewards", "learning", "significance"])
    for s in sections { #expect(s.contains("<svg"), "section \(s.prefix(40)) has no SVG") }
    // the per-year table has the years, and the learning curves both logged keys (the loss decimated to 600 points)
    #expect(html.contains("<h3>2020</h3>") && html.contains("<h3>2021</h3>") && html.contains("<h3>overall</h3>"))
    #expect(html.contains("charts/episodicReturn by training step") && html.contains("losses/td by training step"))
    let learning = try #require(sections.first { $0.hasPrefix(" id=\"learning\"") })
    let lossPoints = try #require(learning.components(separatedBy: "<polyline").last?.components(separatedBy: "points=\"").last?
        .prefix { $0 != "\"" }.split(separator: " ").count)
    #expect(lossPoints == 600)
    // the oracle flips every bar: one buy or sell marker per trade of the first asset
    let trades = c.episodes[0][0].log.trades.count
    #expect(html.components(separatedBy: "<path d=\"M").count - 1 == trades)
    #expect(html.contains("N = 1 trials"))
}

@Test func drawdownsAndBucketMeansByHand() {
    let expected: [Double] = [0, 0, 99.0 / 110 - 1, 0, 110.0 / 121 - 1]
    #expect(drawdowns([100, 110, 99, 121, 110]) == expected)
    let (x, y) = bucketMeans([1, 2, 3, 4, 5, 6], [2, 4, 6, 8, 10, 12], buckets: 3)
    #expect(x == [1.5, 3.5, 5.5] && y == [3, 7, 11])
    #expect(SVG.empty("t").contains("no data"))
}
