import Testing
@testable import TradingEnv

@Test func impactAddsSpreadSlippageAndRange() {
    let c = CostModel(halfSpreadBps: 2, slippageBps: 3, slippageRangeFraction: 0.1)
    // 5 bps plus a tenth of a 2% range
    #expect(abs(c.impact(reference: 100, high: 101, low: 99) - (0.0005 + 0.002)) < 1e-15)
}
