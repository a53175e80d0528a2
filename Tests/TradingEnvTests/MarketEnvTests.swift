import Foundation
import MarketData
import RLCore
import Testing

@testable import TradingEnv

let tinyOpen: [Double] = [100, 101, 100, 98]
let tinyClose: [Double] = [100, 102, 99, 105]

/// Runs a baseline over a whole episode and returns the final equity.
func finalEquity(_ kind: Baseline, _ env: MarketEnv, config: BaselineConfig = BaselineConfig()) -> Double {
    var env = env
    var policy = BaselinePolicy(kind, env: env, config: config)
    var obs = env.reset(seed: 0)
    while true {
        let s = env.step(policy.action(for: obs))
        obs = s.observation
        if s.done { return s.info.equity }
    }
}

@Test func baselinesOnHandMadeSeries() throws {
    let env = try makeEnv(makePanel(open: tinyOpen, close: tinyClose))
    #expect(finalEquity(.flat, env) == 1_000)
    // all in at bar 1's open (101), marked at bar 3's close (105)
    #expect(abs(finalEquity(.buyAndHold, env) - 1039.6039603960396) < 1e-9)
    var mom = BaselineConfig(); mom.momentumLookback = 2
    // flat, flat, then short at bar 3's open (98) since 99 < 100: 1000 − (1000/98)·7
    #expect(abs(finalEquity(.momentum, env, config: mom) - 928.5714285714286) < 1e-9)
    var macd = BaselineConfig(); macd.macdFast = 1; macd.macdSlow = 3
    // signals short, long, short (EMA3 = 100, 101, 100)
    #expect(abs(finalEquity(.macd, env, config: macd) - 919.0099009900991) < 1e-9)
}

@Test func ordersFillAtNextOpenWithCosts() throws {
    var env = try makeEnv(makePanel(open: tinyOpen, close: tinyClose)) { c in
        c.costs = CostModel(commissionBps: 10, halfSpreadBps: 5)
    }
    _ = env.reset(seed: 0)
    let s = env.step(.index(2))  // long, decided at bar 0
    let price = 101 * (1 + 5e-4)
    #expect(env.lastFills[0].price == price)
    #expect(s.info.fillPrice == price)
    let q = 1_000 / 101.0
    #expect(abs(env.lastFills[0].quantity - q) < 1e-12)
    #expect(abs(s.info.cost - (q * price * 1e-3 + q * 101 * 5e-4)) < 1e-9)
    #expect(abs(s.info.equity - (1_000 - q * price * 1.001 + q * 102)) < 1e-9)

    var atClose = try makeEnv(makePanel(open: tinyOpen, close: tinyClose)) { $0.fill = .nextClose }
    _ = atClose.reset(seed: 0)
    #expect(atClose.step(.index(2)).info.fillPrice == 102)
}

@Test func observationAtTIgnoresEveryLaterBar() throws {
    let p = randomPanel(bars: 300, assets: 3, seed: 4)
    var q = p
    let t = 150
    var rng = Xoshiro256(seed: 9)
    for k in (t + 1) * 3..<q.close.count {  // change every bar after t
        let m = exp(0.2 * standardNormal(using: &rng))
        q.open[k] *= m; q.close[k] *= m * 1.1; q.high[k] = max(q.open[k], q.close[k]) * 1.02;
        q.low[k] = min(q.open[k], q.close[k]) * 0.98
    }
    var a = try makeEnv(p, window: 20), b = try makeEnv(q, window: 20)
    var oa = a.reset(seed: 0), ob = b.reset(seed: 0)
    var rng2 = Xoshiro256(seed: 3)
    while oa.bar < t {
        let action = a.actionSpace.sample(using: &rng2)
        oa = a.step(action).observation
        ob = b.step(action).observation
    }
    #expect(oa.bar == t)
    #expect(oa.window2D == ob.window2D)
    #expect(oa.weights == ob.weights && oa.cashWeight == ob.cashWeight)
    // the order decided at t fills at bar t+1's open, which differs between the two panels
    let target = TradingAction.weights([0.5, -0.3, 0.2])
    _ = a.step(target); _ = b.step(target)
    #expect(a.lastFills[0].price == p.open[(t + 1) * 3])
    #expect(b.lastFills[0].price == q.open[(t + 1) * 3])
}

@Test(arguments: [RewardKind.logReturn, .pnl, .differentialSharpe, .volScaled])
func accountingHoldsEveryStep(reward: RewardKind) throws {
    let p = randomPanel(bars: 400, assets: 2, seed: 5)
    let env = try makeEnv(p, window: 5) { c in
        c.costs = CostModel(commissionBps: 5, halfSpreadBps: 3, slippageRangeFraction: 0.05, borrowBpsPerYear: 50)
        c.reward.kind = reward
        c.actions.kind = .discrete
    }
    let report = checkEnvironment(env, seed: 11, episodes: 3, maxSteps: 500)
    #expect(report.passed, "\(report.problems)")
    #expect(report.steps > 300)
}

@Test func logRewardsSumToLogEquityRatioWithCosts() throws {
    var env = try makeEnv(randomPanel(bars: 500), window: 10) { c in
        c.costs = CostModel(commissionBps: 10, halfSpreadBps: 5, slippageBps: 2)
    }
    var rng = Xoshiro256(seed: 1)
    _ = env.reset(seed: 1)
    var sum = 0.0, last = 0.0
    while true {
        let s = env.step(env.actionSpace.sample(using: &rng))
        sum += s.reward; last = s.info.equity
        if s.done { break }
    }
    #expect(abs(sum - log(last / 1_000)) < 1e-10)
    #expect(last < 1_000 * 1.5)  // sanity: random trading with costs on a driftless walk
}

@Test(arguments: [1, 2, 3] as [UInt64])
func higherCostsNeverRaiseEquity(seed: UInt64) throws {
    let p = randomPanel(bars: 300, assets: 2, seed: seed)
    let cheap = try makeEnv(p, window: 3) { $0.costs = CostModel(commissionBps: 1) }
    let dear = try makeEnv(p, window: 3) {
        $0.costs = CostModel(commissionBps: 20, halfSpreadBps: 10, slippageRangeFraction: 0.1, borrowBpsPerYear: 100)
    }
    var a = cheap, b = dear
    _ = a.reset(seed: 0); _ = b.reset(seed: 0)
    var rng = Xoshiro256(seed: seed)
    var steps = 0
    while true {
        let action = a.actionSpace.sample(using: &rng)
        let s = a.step(action), t = b.step(action)
        #expect(t.info.equity <= s.info.equity)
        steps += 1
        if s.done || t.done { break }
    }
    #expect(steps > 200)
}

@Test func equityFloorTerminatesAndDataEndTruncates() throws {
    // a crash of 95% on bar 2: a long book falls below the 10% floor
    var env = try makeEnv(makePanel(open: [100, 100, 5, 5, 5], close: [100, 100, 5, 5, 5]))
    _ = env.reset(seed: 0)
    _ = env.step(.index(2))
    let s = env.step(.index(2))
    #expect(s.terminated && !s.truncated)

    var flat = try makeEnv(makePanel(open: tinyOpen, close: tinyClose))
    _ = flat.reset(seed: 0)
    let steps = (0..<3).map { _ in flat.step(.index(1)) }
    #expect(steps.map(\.truncated) == [false, false, true])
    #expect(steps.allSatisfy { !$0.terminated })
}

@Test func randomEpisodesAreSeededAndOfFixedLength() throws {
    let env = try makeEnv(randomPanel(bars: 1_000), window: 10) { c in
        c.episode.mode = .random
        c.episode.length = 50
    }
    var a = env, b = env
    let starts = (0..<5).map { a.reset(seed: UInt64($0)).bar }
    #expect(starts == (0..<5).map { b.reset(seed: UInt64($0)).bar })
    #expect(Set(starts).count > 1)
    _ = a.reset(seed: 7)
    var n = 0
    while !a.step(.index(1)).done { n += 1 }
    #expect(n + 1 == 50)
}

@Test func wholeSharesRoundTowardZero() throws {
    var env = try makeEnv(makePanel(open: tinyOpen, close: tinyClose)) { $0.fractionalShares = false }
    _ = env.reset(seed: 0)
    _ = env.step(.index(2))
    #expect(env.shares[0] == 9)  // 1000 / 101 = 9.9
    _ = env.step(.index(0))
    #expect(env.shares[0] == -9)  // equity 91 + 9·100 = 991 at bar 2's open 100 → −9.91 → −9
}

@Test func observationExtrasFollowTheConfig() throws {
    var both = try makeEnv(makePanel(open: tinyOpen, close: tinyClose)) { $0.observeCash = true }
    _ = both.reset(seed: 0)
    let o = both.step(.index(2)).observation
    #expect(o.extras.count == 2 && o.extras[0] == o.weights[0] && o.extras[1] == o.cashWeight)
    #expect(abs(o.weights[0] + o.cashWeight - 1) < 1e-12)  // weights and cash add up to the equity
    var none = try makeEnv(makePanel(open: tinyOpen, close: tinyClose)) { $0.observePosition = false }
    #expect(none.reset(seed: 0).extras.isEmpty)
}
