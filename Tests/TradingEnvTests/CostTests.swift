import RLCore
import Testing

@testable import TradingEnv

@Test func impactAddsSpreadSlippageAndRange() {
    let c = CostModel(halfSpreadBps: 2, slippageBps: 3, slippageRangeFraction: 0.1)
    // 5 bps plus a tenth of a 2% range
    #expect(abs(c.impact(reference: 100, high: 101, low: 99) - (0.0005 + 0.002)) < 1e-15)
}

/// A short opened at bar 1's open sells below it by the spread, the fixed and the range slippage, pays commission on
/// what it sold and a day's borrow on the short's value at the close.
@Test func shortFillPaysImpactCommissionAndBorrow() throws {
    var env = try makeEnv(makePanel(open: tinyOpen, close: tinyClose)) { c in
        c.costs = CostModel(
            commissionBps: 10, halfSpreadBps: 2, slippageBps: 3, slippageRangeFraction: 0.1,
            borrowBpsPerYear: 100)
    }
    _ = env.reset(seed: 0)
    let s = env.step(.index(0))  // short, decided at bar 0
    // Bar 1: open 101, close 102, high 102 · 1.01, low 101 · 0.99; one day of 365.25 at 1% a year.
    let impact = 5e-4 + 0.1 * (102 * 1.01 - 101 * 0.99) / 101
    let price = 101 * (1 - impact), q = 1_000 / 101.0
    #expect(abs(s.info.fillPrice - price) < 1e-12)
    #expect(abs(env.lastFills[0].quantity + q) < 1e-12)
    #expect(env.lastFills[0].price == s.info.fillPrice)
    let commission = q * price * 1e-3, borrow = q * 102 * 1e-2 / 365.25
    #expect(abs(env.lastFills[0].cost - (commission + q * 101 * impact)) < 1e-9)
    #expect(abs(s.info.cost - (commission + q * 101 * impact + borrow)) < 1e-9)
    #expect(abs(s.info.equity - (1_000 + q * price - commission - borrow - q * 102)) < 1e-9)
}

/// One asset's fill as `lastFills` and `StepInfo` report it is the fill the step made, bit for bit (`scalarFill` and the
/// fill's loop share `fillTerms`): its cost is the step's cost, its price the step's fill price, and the cash falls by
/// quantity·price + commission exactly.
@Test func oneAssetsReportedFillIsTheStepsFillBitForBit() throws {
    let costs = CostModel(commissionBps: 9, halfSpreadBps: 4, slippageRangeFraction: 0.1)
    var env = try makeEnv(randomPanel(bars: 60, seed: 5)) { $0.costs = costs }
    var observation = env.reset(seed: 1), rng = Xoshiro256(seed: 6), trades = 0
    while observation.bar < 50 {
        let cash = env.cash
        let step = env.step(.index(Int.random(in: 0..<env.actionSpace.levels.count, using: &rng)))
        let f = env.lastFills[0]
        #expect(f.cost == step.info.cost)
        #expect(f.price == step.info.fillPrice)
        #expect(cash - (f.quantity * f.price + costs.commissionRate * (abs(f.quantity) * f.price)) == step.info.cash)
        trades += f.quantity != 0 ? 1 : 0
        observation = step.observation
    }
    #expect(trades > 10)
}

/// A panel's fills account for its cash and costs, as `lastFills` reports them: each step's cash falls by
/// Σ quantityᵢ·priceᵢ + commissionᵢ (the impact is in the price), each fill's cost is its commission plus
/// |quantity|·|price − open|, and the step's cost is Σ costᵢ (a buy above, a sell below the open; none after a reset).
@Test func aPanelsFillsAccountForItsCashAndCosts() throws {
    let panel = randomPanel(bars: 40, assets: 5, seed: 3)
    var env = try makeEnv(panel) { c in
        c.actions.kind = .weights
        c.costs = CostModel(commissionBps: 7, halfSpreadBps: 3, slippageBps: 2, slippageRangeFraction: 0.05)
    }
    var observation = env.reset(seed: 2)
    #expect(env.lastFills.allSatisfy { $0 == Fill(quantity: 0, price: 0, cost: 0) })
    var rng = Xoshiro256(seed: 4), trades = 0
    while observation.bar < 30 {
        let w = (0..<5).map { _ in Double.random(in: -0.3...0.3, using: &rng) }, cash = env.cash
        let step = env.step(.weights(w)), fills = env.lastFills, fillBar = step.info.bar
        var spent = 0.0, cost = 0.0
        for (i, f) in fills.enumerated() {
            let open = panel.open[fillBar * 5 + i], commission = 7e-4 * abs(f.quantity) * f.price
            #expect(f.quantity == 0 ? f.price == 0 && f.cost == 0 : (f.price > open) == (f.quantity > 0))
            #expect(abs(f.cost - commission - abs(f.quantity) * abs(f.price - open)) <= 1e-9 * max(f.cost, 1))
            spent += f.quantity * f.price + commission
            cost += f.cost
            trades += f.quantity != 0 ? 1 : 0
        }
        #expect(abs(cash - spent - step.info.cash) <= 1e-9 * abs(cash))
        #expect(abs(cost - step.info.cost) <= 1e-9 * cost)
        observation = step.observation
    }
    #expect(trades > 50)
}
