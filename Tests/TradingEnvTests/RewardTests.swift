import Foundation
import RLCore
import Testing

@testable import TradingEnv

/// `logNearOne` gives glibc's bits: 2M seeded inputs near 1 (the inlined path: within a few percent, within 1e-3 and
/// 1e-9 of 1, the ends of its range and the values next to them) and around it (glibc's own path), and the special
/// values.
@Test func logNearOneIsTheSystemLog() {
    var rng = Xoshiro256(seed: 11), xs: [Double] = [1, 1.0.nextUp, 1.0.nextDown, 0, -0.0, -1, .infinity, .nan, 1e-310]
    for end in [1 - 0x1p-4, 1 + 0x1.09p-4] { xs += [end, end.nextUp, end.nextDown] }
    for k in 0..<2_000_000 {
        let u = Double(rng.next() >> 11) * 0x1p-53
        let x: Double =
            switch k % 4 {
            case 0: 0.9 + 0.2 * u
            case 1: 1 + (u - 0.5) * 2e-3
            case 2: 1 + (u - 0.5) * 2e-9
            default: 1e-3 + 10 * u
            }
        xs.append(x)
    }
    let inlined = xs.filter { $0.bitPattern &- (1 - 0x1p-4).bitPattern < 0x0003_0900_0000_0000 }.count
    #expect(inlined > 1_300_000)
    #expect(xs.filter { logNearOne($0).bitPattern != log($0).bitPattern }.isEmpty)
}

@Test func differentialSharpeMatchesHandComputation() {
    var d = DifferentialSharpe(eta: 0.1)
    let r = [0.01, -0.02, 0.03].map { d.reward($0) }
    #expect(r[0] == 0)  // warm-up: B₀ − A₀² = 0
    // (1e-5·(−0.021) − ½·0.001·3.9e-4) / (9e-6)^{3/2} = −4.05e-7 / 2.7e-8
    #expect(abs(r[1] - (-15.0)) < 1e-9)
    #expect(abs(r[2] - 6.029383209603408) < 1e-9)
}

@Test func ewmStdMatchesHandComputation() {
    let s = ewmStd(ofChanges: [10, 11, 10.5], span: 3)  // α = 0.5
    #expect(s[0] == 0)
    #expect(abs(s[1] - 0.5) < 1e-15)  // v = 0.5·(0 + 0.5·1²)
    #expect(abs(s[2] - 0.375.squareRoot()) < 1e-15)  // v = 0.5·(0.25 + 0.5·(−1)²)
}

@Test func volScaledRewardMatchesPaperFormula() {
    // μ·[A·(σtgt/σ)·(p − p₋₁) − bp·p₋₁·|σtgt/σ·A − σtgt/σ₋₁·A₋₁|] = 2·[1·(0.5/2)·3 − 0.002·100·|0.25 − (−0.5/4)|]
    let r = volScaledReward(
        mu: 2, sigmaTarget: 0.5, costRate: 0.002, price: 103, previousPrice: 100,
        position: 1, previousPosition: -1, sigma: 2, previousSigma: 4)
    #expect(abs(r - 2 * (0.75 - 0.2 * 0.375)) < 1e-12)
}

@Test func environmentPaysTheVolScaledReward() throws {
    let p = randomPanel(bars: 200, seed: 8)
    var env = try makeEnv(p, window: 5) { c in
        c.reward.kind = .volScaled
        c.reward.volSpan = 10
        c.costs = CostModel(commissionBps: 10, halfSpreadBps: 10)
    }
    let sigma = ewmStd(ofChanges: p.close, span: 10)
    var obs = env.reset(seed: 0)
    var previous = 0.0
    for k in 0..<20 {
        let a = [0, 2, 2, 1][k % 4]
        let position = [-1.0, 0, 1][a]
        let t = obs.bar
        let s = env.step(.index(a))
        let expected = volScaledReward(
            mu: 1, sigmaTarget: 1, costRate: 0.002, price: p.close[t + 1], previousPrice: p.close[t],
            position: position, previousPosition: previous, sigma: sigma[t], previousSigma: sigma[t - 1])
        #expect(abs(s.reward - expected) < 1e-12)
        previous = position
        obs = s.observation
    }
}

@Test func environmentPaysTheDifferentialSharpeOfEquityReturns() throws {
    var env = try makeEnv(randomPanel(bars: 100, seed: 2), window: 3) {
        $0.reward.kind = .differentialSharpe; $0.reward.dsrEta = 0.05
    }
    var reference = DifferentialSharpe(eta: 0.05)
    _ = env.reset(seed: 0)
    var equity = 1_000.0
    for k in 0..<30 {
        let s = env.step(.index(k % 3))
        #expect(s.reward == reference.reward(s.info.equity / equity - 1))
        equity = s.info.equity
    }
}
