import Foundation
import RLCore
import Testing

@testable import MarketData

/// `trials` × `bars` returns 0.01·N(0, 1) from a seeded generator; trial `edge` earns 0.002 more a bar (a per-bar
/// Sharpe of 0.2).
private func trialsMatrix(trials: Int, bars: Int, seed: UInt64, edge: Int? = nil) -> [[Double]] {
    var rng = Xoshiro256(seed: seed)
    return (0..<trials).map { i in
        (0..<bars).map { _ in 0.01 * standardNormal(using: &rng) + (i == edge ? 0.002 : 0) }
    }
}

@Test func pboIsNearZeroWhenOneTrialHasARealEdge() throws {
    let r = try backtestOverfitting(returns: trialsMatrix(trials: 20, bars: 1000, seed: 17, edge: 7))
    #expect(r.combinations == 12_870 && r.blocks == 16 && r.barsUsed == 992)
    #expect(r.pbo < 0.05, "PBO \(r.pbo)")
    #expect(r.probabilityOfLoss < 0.05, "P(loss) \(r.probabilityOfLoss)")
}

@Test func pboIsNearOneHalfForPureNoise() throws {
    // PBO of ONE noise matrix is far from ½ as often as not (its standard deviation over seeds is about 0.2 for
    // N = 20, T = 1000: the 12,870 or 70 combinations share their bars), so the test averages 40 seeded matrices;
    // S = 8 (70 combinations) keeps it quick in a debug build. The mean's standard deviation is then about 0.03.
    var pbo = 0.0, rho = 0.0
    let seeds = 40
    for seed in 1...seeds {
        let r = try backtestOverfitting(returns: trialsMatrix(trials: 20, bars: 1000, seed: UInt64(seed)), blocks: 8)
        #expect(r.combinations == 70 && r.barsUsed == 1000)
        pbo += r.pbo / Double(seeds)
        rho += try #require(r.meanRankCorrelation) / Double(seeds)
    }
    #expect(abs(pbo - 0.5) < 0.1, "mean PBO \(pbo)")
    #expect(abs(rho) < 0.1, "mean rank correlation \(rho)")
}

/// S = 4 by hand. 9 bars: the first (T mod S = 1) is dropped, which the 100 in trial A checks; then 4 blocks of 2
/// bars. Every block of every trial is (c − 1, c + 1) around a centre c, except the flat trial D. For a part of two
/// blocks with centres c₁, c₂ the mean is (c₁ + c₂)/2 and the sum of squared deviations 4 + (c₁ − c₂)², so the Sharpe
/// is √3·s with s = mean / √(4 + (c₁ − c₂)²). Trials (block centres) and s on every part:
///
///   part   A (1 1 1 1)  B (3 3 −1 −1)  C (−1 3 −1 3)  D (flat 1)  E (1 1 1 3)
///   {0,1}     1/2          3/2           1/√20           0           1/2
///   {2,3}     1/2         −1/2           1/√20           0           2/√8
///   {0,2}     1/2          1/√20        −1/2             0           1/2
///   {1,3}     1/2          1/√20         3/2             0           2/√8
///   {0,3}     1/2          1/√20         1/√20           0           2/√8
///   {1,2}     1/2          1/√20         1/√20           0           1/2
///
/// (1/√20 ≈ 0.224 < 1/2 < 2/√8 ≈ 0.707; D is flat: Sharpe 0, not 1/0.) N = 5, ω̄ = rank/6, λ = log(rank/(6 − rank)):
///
///   J      n*           J̄      OOS ranks (1 = worst)            rank of n*   λ
///   {0,1}  B             {2,3}  B 1, D 2, C 3, A 4, E 5           1            log(1/5)
///   {0,2}  A (tie A,E)   {1,3}  D 1, B 2, A 3, E 4, C 5           3            log(3/3) = 0
///   {0,3}  E             {1,2}  D 1, B C 2.5, A E 4.5             4.5          log(4.5/1.5) = log 3
///   {1,2}  A (tie A,E)   {0,3}  D 1, B C 2.5, A 4, E 5            4            log(4/2) = log 2
///   {1,3}  C             {0,2}  C 1, D 2, B 3, A E 4.5            1            log(1/5)
///   {2,3}  E             {0,1}  D 1, C 2, A E 3.5, B 5            3.5          log(3.5/2.5) = log 1.4
///
/// PBO = 3/6 (λ ≤ 0 in rows 1, 2, 5); R̄[n*] < 0 in rows 1 and 5: P(loss) = 2/6.
/// Degradation: (R[n*], R̄[n*])/√3 are (3/2, −1/2), (1/2, 1/2), (c, 1/2) with c = 2/√8 = 1/√2, each twice, so
/// x̄ = (2 + c)/3, ȳ = 1/6, Σ dx·dy = 2(c/3 − 5/6), Σ dx² = 2(4.5 − 4c)/3: slope = (c − 2.5)/(4.5 − 4c) (a ratio,
/// free of the √3) and intercept = √3·(1/6 − slope·(2 + c)/3).
/// Rank correlation: rows k and 7 − k swap J and J̄, so ρ repeats; with ranks centred on 3,
/// row 1: R ranks (A B C D E) = (3.5, 5, 2, 1, 3.5), R̄ ranks (4, 1, 3, 2, 5): ρ = −0.5/√(9.5·10);
/// row 2: (4.5, 3, 1, 2, 4.5) and (3, 2, 5, 1, 4): ρ = −0.5/√(9.5·10);
/// row 3: (4, 2.5, 2.5, 1, 5) and (4.5, 2.5, 2.5, 1, 4.5): ρ = 9/√(9.5·9). Mean = (−1/√95 + 9/√85.5)/3.
private let handCase: [[Double]] = [
    [100, 0, 2, 0, 2, 0, 2, 0, 2],  // A
    [0, 2, 4, 2, 4, -2, 0, -2, 0],  // B
    [0, -2, 0, 2, 4, -2, 0, 2, 4],  // C
    [1, 1, 1, 1, 1, 1, 1, 1, 1],  // D
    [0, 0, 2, 0, 2, 0, 2, 2, 4],  // E
]

@Test func pboMatchesAFourBlockCaseComputedByHand() throws {
    let r = try backtestOverfitting(returns: handCase, blocks: 4)
    #expect(r.combinations == 6 && r.blocks == 4 && r.trials == 5 && r.barsUsed == 8)
    let expected = [log(1.0 / 5), 0, log(3.0), log(2.0), log(1.0 / 5), log(1.4)]
    #expect(r.logits.count == 6)
    for (got, want) in zip(r.logits, expected) { #expect(abs(got - want) < 1e-12, "\(r.logits)") }
    #expect(r.logits[1] == 0)
    #expect(r.pbo == 0.5)
    #expect(r.probabilityOfLoss == 2.0 / 6)
    let c = 1 / 2.squareRoot(), slope = (c - 2.5) / (4.5 - 4 * c)
    #expect(close(r.degradationSlope, slope, tolerance: 1e-12))
    #expect(close(r.degradationIntercept, 3.squareRoot() * (1.0 / 6 - slope * (2 + c) / 3), tolerance: 1e-12))
    #expect(close(r.meanRankCorrelation, (-1 / 95.squareRoot() + 9 / 85.5.squareRoot()) / 3, tolerance: 1e-12))
}

@Test func histogramCoversMinusLogNToLogN() throws {
    let r = try backtestOverfitting(returns: handCase, blocks: 4)
    // λ = log(1/5) twice, 0, log 3, log 2, log 1.4 over [−log 5, log 5]; λ = 0 opens the upper half
    let two = r.histogram(bins: 2)
    #expect(two.map(\.count) == [2, 4])
    #expect(two[0].lower == -log(5.0) && two[0].upper == 0 && two[1].upper == log(5.0))
    #expect(r.histogram(bins: 4).map(\.count) == [2, 0, 3, 1])  // edges −1.61, −0.80, 0, 0.80, 1.61
    #expect(r.histogram(bins: 1).map(\.count) == [6])
}

@Test func partSharpeIsMeanOverStdAndZeroWhenTheBarsAreAllEqual() {
    let noise = [0.013, -0.007, 0.021, 0.004, -0.011, 0.017, 0.002, -0.009, 0.015, -0.003, 0.008, 0.019]
    let returns = [
        [Double](repeating: 0.1, count: 12),  // flat
        [0.1, 0.1, 0.1, 0.1, 0.1, 0.1] + noise.suffix(6),  // flat on blocks 0 and 1 only
        noise,
    ]
    let stats = BlockStats(returns, blocks: 4, barsPerBlock: 3)
    // 0.1 is no binary fraction: the mean of three is not 0.1 and the block's sum of squares is rounding dust, not
    // 0, so mean / std would be about 1e16 — the equal-bars rule is what gives 0
    #expect(stats.squares[0] > 0)
    for part in [[0, 1], [2, 3], [0, 2], [1, 3], [0, 3], [1, 2]] {
        var out = [Double](repeating: .nan, count: 3), scratch = out
        stats.sharpes(part, into: &out, scratch: &scratch)
        for (i, series) in returns.enumerated() {
            let bars = part.flatMap { series[($0 * 3)..<($0 * 3 + 3)] }
            let want =
                bars.allSatisfy { $0 == bars[0] } ? 0 : PerformanceMetrics(returns: bars, periods: 252).sharpePerBar!
            #expect(close(out[i], want, tolerance: 1e-12), "trial \(i) on \(part): \(out[i]) vs \(want)")
        }
    }
}

@Test func degradationIsUndefinedWhenTheSelectedSharpeNeverChanges() throws {
    // A trial whose Sharpe is √3/2 on every part (blocks (0, 2)) beside a flat one: always selected, always best
    let r = try backtestOverfitting(returns: [[0, 2, 0, 2, 0, 2, 0, 2], [0, 0, 0, 0, 0, 0, 0, 0]], blocks: 4)
    #expect(r.pbo == 0 && r.probabilityOfLoss == 0 && r.logits == [Double](repeating: log(2.0), count: 6))
    #expect(r.degradationSlope == nil && r.degradationIntercept == nil && r.meanRankCorrelation == 1)
    let json = try #require(String(data: JSONEncoder().encode(r), encoding: .utf8))
    #expect(json.contains("\"degradationSlope\":null") && json.contains("\"degradationIntercept\":null"))
    #expect(try JSONDecoder().decode(BacktestOverfitting.self, from: Data(json.utf8)) == r)
}

private struct PBOFixture: Decodable {
    struct Expected: Decodable {
        var pbo: Double, combinations: Int, barsUsed: Int, probabilityOfLoss: Double
        var logits: [Double]?
        var logitValues: [Double], logitCounts: [Int]
        var degradationSlope: Double?, degradationIntercept: Double?, meanRankCorrelation: Double?
    }
    struct Case: Decodable {
        var name: String, blocks: Int, returns: [[Double]], expected: Expected
    }
    var cases: [Case]
}

/// scripts/make_pbo_fixture.py: CSCV written independently on the rows with numpy / scipy.
@Test func pboMatchesTheNumpyScipyFixture() throws {
    let url = try #require(Bundle.module.url(forResource: "pbo", withExtension: "json", subdirectory: "Fixtures"))
    let fixture = try JSONDecoder().decode(PBOFixture.self, from: Data(contentsOf: url))
    #expect(fixture.cases.count == 3)
    for c in fixture.cases {
        let r = try backtestOverfitting(returns: c.returns, blocks: c.blocks), e = c.expected
        #expect(r.combinations == e.combinations && r.barsUsed == e.barsUsed, "\(c.name)")
        #expect(close(r.pbo, e.pbo), "\(c.name).pbo: \(r.pbo) vs \(e.pbo)")
        #expect(close(r.probabilityOfLoss, e.probabilityOfLoss), "\(c.name).probabilityOfLoss")
        #expect(close(r.degradationSlope, e.degradationSlope), "\(c.name).degradationSlope")
        #expect(close(r.degradationIntercept, e.degradationIntercept), "\(c.name).degradationIntercept")
        #expect(close(r.meanRankCorrelation, e.meanRankCorrelation), "\(c.name).meanRankCorrelation")
        let sorted = zip(e.logitValues, e.logitCounts).flatMap { [Double](repeating: $0, count: $1) }
        #expect(sorted.count == r.logits.count, "\(c.name)")
        #expect(zip(r.logits.sorted(), sorted).allSatisfy { close($0, $1) }, "\(c.name): sorted logits")
        if let logits = e.logits {
            #expect(
                logits.count == r.logits.count && zip(r.logits, logits).allSatisfy { close($0, $1) },
                "\(c.name): logits in combination order")
        }
    }
    #expect(fixture.cases.contains { $0.expected.logits != nil })
}

@Test func pboRejectsBadInputInOneLine() {
    let ok = trialsMatrix(trials: 3, bars: 40, seed: 1)
    #expect(throws: MarketDataError("PBO: blocks must be an even number ≥ 2, not 5")) {
        try backtestOverfitting(returns: ok, blocks: 5)
    }
    #expect(throws: MarketDataError("PBO: blocks must be an even number ≥ 2, not 0")) {
        try backtestOverfitting(returns: ok, blocks: 0)
    }
    #expect(throws: MarketDataError("PBO: blocks must be at most 20 (C(20, 10) = 184,756 splits), not 40")) {
        try backtestOverfitting(returns: ok, blocks: 40)
    }
    #expect(throws: MarketDataError("PBO: needs at least 2 trials, got 1")) {
        try backtestOverfitting(returns: [ok[0]], blocks: 4)
    }
    #expect(throws: MarketDataError("PBO: needs at least 2 trials, got 0")) { try backtestOverfitting(returns: []) }
    #expect(throws: MarketDataError("PBO: trial 2 has 39 bars but trial 0 has 40")) {
        try backtestOverfitting(returns: [ok[0], ok[1], Array(ok[2].dropLast())], blocks: 4)
    }
    #expect(throws: MarketDataError("PBO: 39 bars make fewer than 2 bars in each of 20 blocks (needs ≥ 40)")) {
        try backtestOverfitting(returns: trialsMatrix(trials: 3, bars: 39, seed: 1), blocks: 20)
    }
    var bad = ok
    bad[1][3] = .nan
    #expect(throws: MarketDataError("PBO: trial 1, bar 3: the return nan is not finite")) {
        try backtestOverfitting(returns: bad, blocks: 4)
    }
    bad[1][3] = 1
    bad[2][39] = -.infinity
    #expect(throws: MarketDataError("PBO: trial 2, bar 39: the return -inf is not finite")) {
        try backtestOverfitting(returns: bad, blocks: 4)
    }
}
