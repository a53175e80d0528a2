import Foundation
import RunStore
import Testing
import TradingEnv

@testable import Experiments

@Test func buyAndHoldOnValidationMatchesThePriceRatio() throws {
    let setup = try MarketSetup(path: repoRoot + "/environments/sp500-daily.yaml")
    let log = try evaluateBaseline(.buyAndHold, setup: setup, split: .validation) { $0.costs = CostModel() }
    let env = try setup.environment(.validation)
    let p = setup.dataset.panel
    // all in at the open after the first decision bar, held to the last close of the split
    let expected = 100_000 * p.close[env.lastBar] / p.open[env.firstBar + 1]
    #expect(abs(log.finalEquity - expected) < 1e-6)
    #expect(log.length == env.lastBar - env.firstBar)
    #expect(log.steps.count == log.length)
    #expect(log.trades.count == 1)
    let s = log.summary
    #expect(abs(s.metrics.totalReturn - (expected / 100_000 - 1)) < 1e-9)
    #expect(abs(s.exposure - 1) < 0.01)
}

@Test func costsReduceTheFinalEquityAndEpisodesRoundTripThroughTheStore() throws {
    let setup = try MarketSetup(path: repoRoot + "/environments/sp500-daily.yaml")
    let free = try evaluateBaseline(.macd, setup: setup, split: .validation) { $0.costs = CostModel() }
    let dear = try evaluateBaseline(.macd, setup: setup, split: .validation) { $0.costs = CostModel(commissionBps: 20) }
    #expect(dear.finalEquity < free.finalEquity)
    #expect(dear.costs > 0 && free.costs == 0)
    #expect(dear.actionsHash == free.actionsHash)  // same signals, same actions

    let store = try RunStore(path: try temporaryDirectory() + "/runs.sqlite")
    let run = try store.createRun(
        experiment: "t", agent: "macd", seed: 0, experimentYAML: "", configJSON: "{}", configHash: "",
        codeVersion: "test")
    let id = try store.writeEpisode(
        dear.record(runId: run.id!, split: .validation, index: 0, globalStep: 0),
        steps: dear.steps, trades: dear.trades)
    let stored = try store.steps(episodeId: id)
    #expect(stored.count == dear.length)
    #expect(stored.last?.equity == dear.finalEquity)
    #expect(try store.trades(episodeId: id).count == dear.trades.count)
    #expect(try store.episodes(runId: run.id!, split: .validation).first?.actionsHash == dear.actionsHash)
}
