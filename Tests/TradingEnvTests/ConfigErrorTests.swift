import MarketData
import RLCore
import Testing

@testable import TradingEnv

@Test func windowLongerThanSplitIsAnError() throws {
    let p = randomPanel(bars: 30)
    var c = MarketConfig(); c.window = 40
    #expect(throws: EnvironmentError("window 40 (after 0 warm-up bars) leaves no step in the split of 30 bars")) {
        _ = try MarketEnv(panel: p, features: simpleFeatures(p), width: 2, bars: 0..<30, config: c)
    }
}

@Test func negativeCostIsAnErrorNamingTheField() throws {
    let p = randomPanel(bars: 30)
    var c = MarketConfig(); c.window = 2; c.costs.commissionBps = -1
    #expect(throws: EnvironmentError("costs.commissionBps must be a finite number ≥ 0, not -1.0")) {
        _ = try MarketEnv(panel: p, features: simpleFeatures(p), width: 2, bars: 0..<30, config: c)
    }
}

/// One asset steps on two lanes with the uniform trade tolerance, so a bar without a price of its own (possible only in
/// a `Panel` built by hand) is an error naming the bar, not a fill at a forward-filled price.
@Test func aSingleAssetWithoutABarOfItsOwnIsAnError() throws {
    var p = randomPanel(bars: 30)
    p.observed[7] = false
    let date = DateParser.format(p.timestamps[7])
    #expect(
        throws: EnvironmentError(
            "\(p.source): its one asset, \(p.tickers[0]), has no bar of its own at bar 7 (\(date), observed = false): "
                + "one asset needs every bar")
    ) {
        _ = try makeEnv(p)
    }
    p.observed[7] = true
    _ = try makeEnv(p)
}

@Test func continuousWeightsAreProjected() {
    var a = ActionConfig(); a.kind = .weights; a.longOnly = true; a.maxGrossLeverage = 1
    let space = TradingActionSpace(a, assets: 3)
    var w = [0.8, -0.5, 0.8]
    space.project(&w)
    #expect(w == [0.5, 0, 0.5])
    var g = Xoshiro256(seed: 3)
    for _ in 0..<200 {
        guard case .weights(let x) = space.sample(using: &g) else { Issue.record("not weights"); return }
        #expect(x.allSatisfy { $0 >= 0 } && x.reduce(0, +) <= 1 + 1e-12)
    }
}
