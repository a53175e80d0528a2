import Foundation
import RLCore
import Testing

@testable import MarketData

struct MetricFixture: Decodable {
    struct Case: Decodable {
        var name: String
        var returns: [Double]
        var expected: [String: Double?]
    }
    var cases: [Case]
}

func loadMetricFixture() throws -> MetricFixture {
    let url = try #require(Bundle.module.url(forResource: "metrics", withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode(MetricFixture.self, from: Data(contentsOf: url))
}

func close(_ a: Double?, _ b: Double?, tolerance: Double = 1e-9) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (let x?, let y?): return abs(x - y) <= tolerance * max(1, abs(y))
    default: return false
    }
}

@Test func metricsMatchEmpyricalAndQuantstats() throws {
    let fixture = try loadMetricFixture()
    #expect(fixture.cases.count >= 4)
    for c in fixture.cases {
        let m = PerformanceMetrics(returns: c.returns, periods: 252)
        let e = c.expected
        let pairs: [(String, Double?)] = [
            ("totalReturn", m.totalReturn), ("annualReturn", m.annualReturn), ("annualVolatility", m.annualVolatility),
            ("sharpe", m.sharpe), ("sortino", m.sortino), ("maxDrawdown", m.maxDrawdown), ("calmar", m.calmar),
            ("hitRate", m.hitRate), ("averageWin", m.averageWin), ("averageLoss", m.averageLoss),
            ("sharpePerBar", m.sharpePerBar), ("skewness", m.skewness), ("kurtosis", m.kurtosis), ("psr", m.psr),
        ]
        for (key, value) in pairs {
            #expect(
                close(value, e[key] ?? nil),
                "\(c.name).\(key): \(String(describing: value)) vs \(String(describing: e[key] ?? nil))")
        }
        let trials = Int(try #require(e["dsrTrials"] ?? nil)), variance = try #require(e["dsrSharpeVariance"] ?? nil)
        #expect(close(deflatedSharpeBenchmark(trials: trials, sharpeVariance: variance), e["dsrBenchmark"] ?? nil))
        #expect(close(deflatedSharpe(m, trials: trials, sharpeVariance: variance), e["dsr"] ?? nil), "\(c.name).dsr")
    }
}

@Test func psrReducesToLoForGaussianReturns() {
    // γ₃ = 0, γ₄ = 3: the standard error is √((1 + ŜR²/2)/(n − 1))
    let sr = 0.08, n = 500
    let lo = normalCDF(sr / ((1 + sr * sr / 2) / Double(n - 1)).squareRoot())
    #expect(abs(probabilisticSharpe(sharpe: sr, benchmark: 0, bars: n, skewness: 0, kurtosis: 3)! - lo) < 1e-15)
    // PSR against its own Sharpe is ½; against a higher benchmark it falls
    #expect(probabilisticSharpe(sharpe: sr, benchmark: sr, bars: n, skewness: -1, kurtosis: 6) == 0.5)
    #expect(probabilisticSharpe(sharpe: sr, benchmark: 0.1, bars: n, skewness: 0, kurtosis: 3)! < 0.5)
}

@Test func inverseNormalRoundTrips() {
    for p in [1e-10, 0.001, 0.02425, 0.3, 0.5, 0.9, 0.999999] {
        #expect(abs(normalCDF(inverseNormalCDF(p)) - p) < 1e-14 * max(1, 1 / p) * p + 1e-16)
    }
    #expect(abs(inverseNormalCDF(0.975) - 1.959963984540054) < 1e-13)
}

@Test func drawdownDurationAndUndefinedRatios() {
    let m = PerformanceMetrics(returns: [0.1, -0.5, 0.2, 0.2, 1.0, -0.1], periods: 252)
    // W: 1.1, .55, .66, .792, 1.584 (new peak), 1.4256 → under water for 3 bars, then 1 at the end
    #expect(m.maxDrawdownBars == 3)
    #expect(abs(m.maxDrawdown - (0.55 / 1.1 - 1)) < 1e-15)
    let up = PerformanceMetrics(returns: [0.01, 0.02, 0.01], periods: 252)
    #expect(up.calmar == nil && up.sortino == nil && up.averageLoss == nil && up.maxDrawdown == 0)
    let flat = PerformanceMetrics(returns: [0, 0, 0, 0], periods: 252)
    #expect(flat.sharpe == nil && flat.hitRate == nil && flat.psr == nil)
}

@Test func bootstrapIntervalIsSeededAndCoversTheEstimate() throws {
    let fixture = try loadMetricFixture()
    let r = fixture.cases[0].returns
    var a = Xoshiro256(seed: 5), b = Xoshiro256(seed: 5)
    let i1 = try #require(bootstrapSharpeInterval(r, periods: 252, resamples: 400, using: &a))
    let i2 = try #require(bootstrapSharpeInterval(r, periods: 252, resamples: 400, using: &b))
    #expect(i1 == i2)
    let sharpe = try #require(PerformanceMetrics(returns: r, periods: 252).sharpe)
    #expect(i1.contains(sharpe))
    #expect(i1.upperBound - i1.lowerBound > 0.5 && i1.upperBound - i1.lowerBound < 6)
    // four times the data: a clearly narrower interval
    var c = Xoshiro256(seed: 5)
    let long = try #require(bootstrapSharpeInterval(r + r + r + r, periods: 252, resamples: 400, using: &c))
    #expect(long.upperBound - long.lowerBound < 0.7 * (i1.upperBound - i1.lowerBound))
}

/// Bars a year by the bars' spacing: monthly, weekly and daily bars (weekends and holidays skipped) by convention, bars
/// within a day by the median count of a calendar day's bars (a short last day changes nothing).
@Test func barsPerYearFollowsTheSpacing() {
    let day: Int64 = 86_400, start: Int64 = 1_483_228_800  // 2017-01-01
    let tradingDays = (0..<400).map { start + $0 * day }.filter { ($0 / day + 3) % 7 < 5 }  // Monday to Friday
    #expect(barsPerYear(timestamps: tradingDays) == 252)
    #expect(barsPerYear(timestamps: (0..<60).map { start + $0 * 7 * day }) == 52)
    #expect(barsPerYear(timestamps: (0..<30).map { start + $0 * 30 * day }) == 12)
    let hourly = tradingDays.prefix(50).flatMap { d in (0..<24).map { d + $0 * 3_600 } }
    #expect(barsPerYear(timestamps: Array(hourly) + [hourly.last! + 18 * 3_600]) == 24 * 252)
    let session = tradingDays.prefix(50).flatMap { d in (0..<7).map { d + 14 * 3_600 + $0 * 3_600 } }
    #expect(barsPerYear(timestamps: session) == 7 * 252)
    #expect(barsPerYear(timestamps: [start]) == 252 && barsPerYear(timestamps: []) == 252)
    #expect(annualisationNote(barsPerYear: 252) == nil)
    #expect(annualisationNote(barsPerYear: 6_048) == "annualised with 6048 bars a year")
}
