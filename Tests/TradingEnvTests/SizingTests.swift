import Foundation
import Testing

@testable import TradingEnv

/// Volatility-targeting factors on a hand-made series: span 3 (α = 0.5), no annualisation (periodsPerYear 1), target
/// 0.01: σ₁ = √(0.5 · 0.5 · 0.01²) = 0.005 → factor 0.01 / 0.005 = 2; then r₂ = −0.01: m₁ = 0.005, d = −0.015,
/// v₂ = 0.5 · (0.000025 + 0.5 · 0.015²) = 0.00006875 → factor 0.01 / √0.00006875; the cap binds at 1.5.
@Test func volatilityTargetFactorsByHand() {
    var z = SizingConfig()
    (z.kind, z.annualTarget, z.span, z.periodsPerYear, z.maxLeverage) = (.volatilityTarget, 0.01, 3, 1, 5)
    let closes = [100, 101, 101 * 0.99]
    let f = volatilityTargetScale(closes: closes, config: z)
    #expect(f[0] == 0)
    #expect(abs(f[1] - 2) < 1e-12)
    #expect(abs(f[2] - 0.01 / 0.00006875.squareRoot()) < 1e-9)
    z.maxLeverage = 1.5
    #expect(volatilityTargetScale(closes: closes, config: z)[1] == 1.5)
    // σ uses returns up to t only: changing the last close changes only the last factor.
    let moved = volatilityTargetScale(closes: [100, 101, 120], config: z)
    #expect(moved[0] == f[0] && moved[1] == 1.5 && moved[2] != f[2])
}

/// Volatility targeting at 15% a year over a 20-bar span, at most 2× leverage.
func fifteenPercentTarget() -> SizingConfig {
    var z = SizingConfig()
    (z.kind, z.annualTarget, z.span, z.maxLeverage) = (.volatilityTarget, 0.15, 20, 2)
    return z
}

/// With sizing, the environment trades the chosen level × the factor of the decision bar: the fill buys that weight
/// of equity at the next open, and the commission is paid on the sized trade.
@Test func sizedTradesAndTheirCosts() throws {
    let panel = randomPanel(bars: 120)
    let z = fifteenPercentTarget()
    var env = try makeEnv(panel) { c in
        c.sizing = z
        c.costs = CostModel(commissionBps: 10)
    }
    let factors = volatilityTargetScale(closes: panel.close, config: z)
    var observation = env.reset(seed: 0)
    var checked = 0
    while observation.bar < 100 {
        let t = observation.bar, equity = env.equity, sharesBefore = env.shares[0]
        let level = t % 3 == 0 ? 0 : 2  // short / long
        let step = env.step(.index(level))
        let target = (level == 0 ? -1.0 : 1.0) * factors[t]
        // The order is sized against equity at the next open (the reference price) before costs.
        let open = panel.open[t + 1]
        let equityAtOpen = equity - sharesBefore * panel.close[t] + sharesBefore * open
        let traded = env.lastFills[0].quantity
        #expect(abs((sharesBefore + traded) * open / equityAtOpen - target) < 1e-9, "bar \(t)")
        #expect(abs(step.info.cost - abs(traded) * open * 1e-3) < 1e-9, "bar \(t)")
        observation = step.observation
        checked += 1
    }
    #expect(checked > 50 && factors[60] > 0 && factors[60] != 1)
}

/// With sizing, the volatility-scaled reward takes the sized positions as eq. 4's scaled positions (S = A·factor),
/// instead of scaling them a second time by σ_tgt/σ.
@Test func volScaledRewardOfSizedPositionsScalesOnce() throws {
    let panel = randomPanel(bars: 120)
    let z = fifteenPercentTarget()
    var env = try makeEnv(panel) { c in
        c.sizing = z
        c.reward.kind = .volScaled
        c.reward.mu = 3
        c.costs = CostModel(commissionBps: 10, halfSpreadBps: 10)
    }
    let factors = volatilityTargetScale(closes: panel.close, config: z)
    var observation = env.reset(seed: 0)
    var previous = 0.0
    for k in 0..<40 {
        let t = observation.bar, level = [0, 2, 2, 1][k % 4]
        let scaled = [-1.0, 0, 1][level] * factors[t]
        let step = env.step(.index(level))
        let expected =
            3
            * (scaled * (panel.close[t + 1] - panel.close[t])
                - 0.002 * panel.close[t] * abs(scaled - previous))
        #expect(abs(step.reward - expected) < 1e-9, "bar \(t)")
        previous = scaled
        observation = step.observation
    }
    #expect(factors[60] > 0 && factors[60] != 1)
}
