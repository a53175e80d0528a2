import Foundation
import MarketData
import RLCore
import Testing

@testable import TradingEnv

// The continuous target-weight action space over a panel, and the two portfolio baselines.

/// Property: whatever weights an agent emits (huge, negative, all zero, Gaussian noise or softmax output), the target
/// the panel environment trades to is within the leverage cap (and long where it must be), and the book it buys at the
/// fill price is that target up to the costs.
@Test(arguments: [(true, 1.0), (true, 0.5), (false, 1.0), (false, 2.0)])
func panelWeightsStayWithinTheLeverageCap(longOnly: Bool, cap: Double) throws {
    let n = 7
    var env = try makeEnv(randomPanel(bars: 400, assets: n, seed: 3), window: 2) { c in
        c.actions.kind = .weights
        c.actions.longOnly = longOnly
        c.actions.maxGrossLeverage = cap
        c.costs = CostModel(commissionBps: 5, halfSpreadBps: 5)
    }
    var rng = Xoshiro256(seed: 4)
    var observation = env.reset(seed: 1)
    var steps = 0, scaledDown = 0
    while steps < 2_000 {
        let scale = [0.01, 1, 10, 1e6][steps % 4]
        var w = (0..<n).map { _ in scale * standardNormal(using: &rng) }
        if steps % 7 == 0 { w = [Double](repeating: 0, count: n) }
        if steps % 11 == 0 { let e = w.map { exp(min($0, 50)) }; let z = e.reduce(0, +); w = e.map { $0 / z } }
        let bar = observation.bar
        let step = env.step(.weights(w))
        let target = Array(env.book[env.n4..<env.n4 + n])
        let gross = target.reduce(0) { $0 + abs($1) }
        #expect(gross <= cap * (1 + 1e-12), "Σ|w| = \(gross) > cap \(cap) for \(w)")
        if longOnly { #expect(target.allSatisfy { $0 >= 0 }) }
        // unconstrained targets pass through unchanged; larger ones are scaled onto the cap
        let wanted = longOnly ? w.map { max($0, 0) } : w
        let wantedGross = wanted.reduce(0) { $0 + abs($1) }
        if wantedGross <= cap {
            #expect(zip(target, wanted).allSatisfy { abs($0 - $1) <= 1e-12 })
        } else {
            scaledDown += 1
            #expect(abs(gross - cap) <= 1e-9 * cap)
        }
        // what was bought at the fill: shares·price / equity at the reference price ≈ the target; costs (10 bps of a
        // turnover ≤ 2·cap) come out of cash, so the ratio can exceed the cap by at most ~0.2%·cap²
        let reference = (0..<n).map { env.quotes[3 * env.n4 * (bar + 1) + $0] }
        let held = (0..<n).reduce(0.0) { $0 + abs(env.shares[$1] * reference[$1]) }
        let referenceEquity = step.info.cash + (0..<n).reduce(0.0) { $0 + env.shares[$1] * reference[$1] }
        #expect(held / referenceEquity <= cap * (1 + 0.0021 * cap))
        steps += 1
        observation = step.done ? env.reset(seed: UInt64(steps)) : step.observation
    }
    #expect(scaledDown > 100 && scaledDown < steps)
}

@Test func minimumVarianceOfHandMadeCovariances() {
    // diagonal: w ∝ 1/σ², no constraint binds
    var w = minimumVarianceWeights(covariance: [1, 0, 0, 0, 2, 0, 0, 0, 4], assets: 3, budget: 1)
    expectWeights(w, [4.0 / 7, 2.0 / 7, 1.0 / 7])
    // correlated, interior: w ∝ Σ⁻¹1 = (4 − 0.9, 1 − 0.9) / det → (31/32, 1/32)
    w = minimumVarianceWeights(covariance: [1, 0.9, 0.9, 4], assets: 2, budget: 1)
    expectWeights(w, [31.0 / 32, 1.0 / 32])
    // Σ⁻¹1 ∝ (2.5, −0.5): the long-only constraint binds, everything in the first asset
    w = minimumVarianceWeights(covariance: [1, 1.5, 1.5, 4], assets: 2, budget: 1)
    expectWeights(w, [1, 0])
    // three assets, the third a levered copy of the first (drops out); the budget scales the answer
    // Σ = [[1, 0, 2], [0, 1, 0], [2, 0, 4.5]]: on {1, 2} the optimum is (½, ½), and asset 3 only adds variance
    w = minimumVarianceWeights(covariance: [1, 0, 2, 0, 1, 0, 2, 0, 4.5], assets: 3, budget: 0.6)
    expectWeights(w, [0.3, 0.3, 0])
}

func expectWeights(_ w: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(w.count == expected.count, sourceLocation: sourceLocation)
    for (a, e) in zip(w, expected) { #expect(abs(a - e) < 1e-7, "\(w) vs \(expected)", sourceLocation: sourceLocation) }
}

@Test func shrunkCovarianceOfKnownReturns() {
    // two assets, log returns (a, b) per bar: (0.1, 0), (−0.1, 0.2), (0, −0.2) → S = [[0.01, −0.01], [−0.01, 0.04]]
    let r: [(Double, Double)] = [(0.1, 0), (-0.1, 0.2), (0, -0.2)]
    var closes = [100.0, 50.0]
    for (a, b) in r { closes += [closes[closes.count - 2] * exp(a), closes[closes.count - 1] * exp(b)] }
    let s = shrunkCovariance(logReturnsOf: closes, assets: 2, bars: 0..<4, shrinkage: 0)
    for (x, e) in zip(s, [0.01, -0.01, -0.01, 0.04]) { #expect(abs(x - e) < 1e-12) }
    // δ = 0.5: halfway to (tr S / N)·I = 0.025·I
    let shrunk = shrunkCovariance(logReturnsOf: closes, assets: 2, bars: 0..<4, shrinkage: 0.5)
    for (x, e) in zip(shrunk, [0.0175, -0.005, -0.005, 0.0325]) { #expect(abs(x - e) < 1e-12) }
    // bars outside the window are not read
    var changed = closes
    changed += [1, 1]
    #expect(shrunkCovariance(logReturnsOf: changed, assets: 2, bars: 0..<4, shrinkage: 0) == s)
}

@Test func equalWeightRebalancesToOneOverN() throws {
    let n = 4
    var env = try makeEnv(randomPanel(bars: 60, assets: n, seed: 5)) { c in
        c.actions.kind = .weights
        c.actions.maxGrossLeverage = 1
    }
    var policy = BaselinePolicy(.equalWeight, env: env)
    var observation = env.reset(seed: 0)
    var drifted = 0
    while true {
        // the previous bar's close moved the weights off 1/N; the policy asks for 1/N again
        if observation.weights.contains(where: { abs($0 - 0.25) > 1e-4 }) { drifted += 1 }
        #expect(policy.action(for: observation) == .weights([0.25, 0.25, 0.25, 0.25]))
        let bar = observation.bar
        let step = env.step(policy.action(for: observation))
        // filled at the open: every asset holds a quarter of the equity at the reference price (no costs)
        let reference = (0..<n).map { env.quotes[3 * env.n4 * (bar + 1) + $0] }
        let values = (0..<n).map { env.shares[$0] * reference[$0] }
        let total = values.reduce(0, +) + step.info.cash
        for v in values { #expect(abs(v / total - 0.25) < 1e-12) }
        if step.done { break }
        observation = step.observation
    }
    #expect(drifted > 40)
    // a cap below 1 scales the budget
    let capped = try makeEnv(randomPanel(bars: 60, assets: n, seed: 5)) { c in
        c.actions.kind = .weights
        c.actions.maxGrossLeverage = 0.5
    }
    var half = BaselinePolicy(.equalWeight, env: capped)
    var o = capped
    #expect(half.action(for: o.reset(seed: 0)) == .weights([0.125, 0.125, 0.125, 0.125]))
    #expect(Baseline.equalWeight.applies(toAssets: 2) && !Baseline.equalWeight.applies(toAssets: 1))
    #expect(!Baseline.minimumVariance.applies(toAssets: 1) && Baseline.macd.applies(toAssets: 1))
}

/// The minimum-variance baseline holds the weights of the TRAIN bars' covariance: a calm asset gets most of the
/// budget, and the validation bars (here very different) do not change them.
@Test func minimumVarianceFitsOnTheTrainBarsOnly() throws {
    let n = 3, bars = 300
    var rng = Xoshiro256(seed: 6)
    var open = [Double](), close = [Double]()
    var last = [100.0, 100, 100]
    for t in 0..<bars {
        // train (t < 200): volatilities 0.5%, 1%, 2%; afterwards the order is reversed
        let vol = t < 200 ? [0.005, 0.01, 0.02] : [0.02, 0.01, 0.005]
        for i in 0..<n {
            let c = last[i] * exp(vol[i] * standardNormal(using: &rng))
            open.append(last[i]); close.append(c); last[i] = c
        }
    }
    let panel = makePanel(open: open, close: close, assets: n)
    var c = MarketConfig()
    c.actions.kind = .weights
    let validation = try MarketEnv(
        panel: panel, features: simpleFeatures(panel), width: 2 * n, bars: 200..<bars, config: c)
    var policy = BaselinePolicy(.minimumVariance, env: validation, train: 0..<200)
    var env = validation
    guard case .weights(let w) = policy.action(for: env.reset(seed: 0)) else {
        Issue.record("weights expected"); return
    }
    let expected = minimumVarianceWeights(
        covariance: shrunkCovariance(
            logReturnsOf: close, assets: n, bars: 0..<200,
            shrinkage: BaselineConfig().minimumVarianceShrinkage),
        assets: n, budget: 1)
    expectWeights(w, expected)
    #expect(abs(w.reduce(0, +) - 1) < 1e-12 && w[0] > w[1] && w[1] > w[2] && w[0] > 0.6)
}

/// Buy-and-hold on a panel buys 1/N of each asset at the first fill and never trades again: its final equity is the
/// first fill's shares marked at the last close (with the commission paid once), and it differs from equal weight,
/// which rebalances every bar.
@Test func buyAndHoldOnAPanelBuysOnceThenHolds() throws {
    let n = 4
    var env = try makeEnv(randomPanel(bars: 300, assets: n, seed: 9), window: 2) { c in
        c.actions.kind = .weights
        c.costs = CostModel(commissionBps: 10)
    }
    var policy = BaselinePolicy(.buyAndHold, env: env)
    var observation = env.reset(seed: 0)
    var fills = 0, turnovers: [Double] = []
    var firstShares: [Double] = []
    var lastBar = 0, equity = 0.0
    while true {
        let step = env.step(policy.action(for: observation))
        turnovers.append(step.info.turnover)
        if step.info.turnover > 0 { fills += 1 }
        if firstShares.isEmpty { firstShares = Array(env.book[0..<n]) }
        #expect(Array(env.book[0..<n]) == firstShares, "shares changed at bar \(step.info.bar)")
        observation = step.observation; lastBar = step.info.bar; equity = step.info.equity
        if step.done { break }
    }
    #expect(fills == 1 && abs(turnovers[0] - 1) < 1e-9, "one fill of the whole equity: \(turnovers.prefix(3))")
    let marked = (0..<n).reduce(env.cash) { $0 + firstShares[$1] * env.close[lastBar * n + $1] }
    #expect(abs(equity - marked) < 1e-9)

    var rebalanced = try makeEnv(randomPanel(bars: 300, assets: n, seed: 9), window: 2) { c in
        c.actions.kind = .weights
        c.costs = CostModel(commissionBps: 10)
    }
    var equal = BaselinePolicy(.equalWeight, env: rebalanced)
    var o = rebalanced.reset(seed: 0), equalFills = 0
    while true {
        let step = rebalanced.step(equal.action(for: o))
        if step.info.turnover > 0 { equalFills += 1 }
        o = step.observation
        if step.done { break }
    }
    #expect(equalFills > 100)
}

/// An asset without a bar of its own at a fill (a gap the panel forward-filled, as `Alignment` does: open = high = low
/// = close = the previous close, volume 0) keeps its shares there, since no order fills at a price the market never
/// gave; the others fill as usual, the book is marked at the filled close, and the asset trades to its target at its
/// next bar. The control, the same prices with the bar observed, trades it at the gap. Two assets take four lanes when
/// the panel has a gap (`rebalance` reads each asset's tolerance on four), one vector of two without.
@Test(arguments: [2, 3]) func anAssetWithoutABarAtTheFillKeepsItsShares(assets n: Int) throws {
    var observedPanel = randomPanel(bars: 12, assets: n, seed: 5)
    let gapBar = 6, k = gapBar * n + 1, previous = observedPanel.close[k - n]
    for column in [\Panel.open, \.high, \.low, \.close] { observedPanel[keyPath: column][k] = previous }
    observedPanel.volume[k] = 0
    var gappy = observedPanel
    gappy.observed[k] = false
    for (panel, gap) in [(gappy, true), (observedPanel, false)] {
        var env = try makeEnv(panel) { c in
            c.actions.kind = .weights
            c.actions.longOnly = true
            c.costs = CostModel(commissionBps: 5, halfSpreadBps: 5)
        }
        #expect(env.n4 == (gap || n > 2 ? 4 : 2))
        var observation = env.reset(seed: 1)
        while observation.bar < gapBar + 1 {
            // every step asks asset 1 for another weight, so every fill that can trade it does
            let w = (0..<n).map { i in i == 1 ? (observation.bar % 2 == 0 ? 0.2 : 0.5) : 0.4 / Double(n) }
            let held = env.shares
            let step = env.step(.weights(w))
            let fills = env.lastFills, shares = env.shares, fillBar = observation.bar + 1
            for i in 0..<n {
                let frozen = gap && i == 1 && fillBar == gapBar
                #expect((fills[i].quantity == 0) == frozen, "asset \(i), fill bar \(fillBar), gap \(gap)")
                let q = fills[i].quantity
                #expect(q == 0 ? shares[i] == held[i] : abs(shares[i] - held[i] - q) <= 1e-12 * abs(shares[i]))
            }
            // the book marked at the close (the filled close for asset 1 at the gap)
            let marked = (0..<n).reduce(step.info.cash) { $0 + shares[$1] * panel.close[fillBar * n + $1] }
            #expect(abs(marked - step.info.equity) <= 1e-9 * step.info.equity)
            observation = step.observation
        }
    }
}
