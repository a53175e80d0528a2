import Foundation
import Testing

@testable import MarketData

/// A one-asset panel with daily bars from 2000-01-03.
func series(open: [Double], high: [Double], low: [Double], close: [Double], volume: [Double], ticker: String = "T")
    -> Panel
{
    Panel(
        source: "test", tickers: [ticker], timestamps: close.indices.map { day("2000-01-03") + Int64($0) * 86_400 },
        open: open, high: high, low: low, close: close, volume: volume, observed: close.map { _ in true })
}

struct FeatureTests {
    let p = series(
        open: [10, 10, 11, 10, 11], high: [10.5, 11.5, 11.2, 11, 11.5], low: [9.5, 9.8, 9.7, 9.9, 10.5],
        close: [10, 11, 9.9, 10.89, 10.89], volume: [100, 200, 200, 50, 0])

    @Test func everyFeatureAgainstAHandComputation() throws {
        let f = try FeatureMatrix.compute(p, config: FeatureConfig(volumeWindow: 2, volatilityWindow: 2))
        #expect(f.rows == 5 && f.width == 5 && f.warmup == 2)
        #expect(f.names == ["T.logReturn", "T.range", "T.body", "T.volumeZ", "T.volatility"])
        func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) < 1e-6 }
        // logReturn: 0 on the first bar, then log(c[t]/c[t-1]).
        let r = [0, log(11.0 / 10), log(9.9 / 11), log(10.89 / 9.9), 0]
        for t in 0..<5 { #expect(close(f[t, 0], r[t]), "logReturn \(t)") }
        // range = (h - l) / c, body = (c - o) / o
        #expect(close(f[1, 1], (11.5 - 9.8) / 11) && close(f[4, 1], (11.5 - 10.5) / 10.89))
        #expect(close(f[0, 2], 0) && close(f[2, 2], (9.9 - 11) / 11) && close(f[3, 2], 0.089))
        // volumeZ over 2 bars = sign of the change in log(1+v) (population std), 0 when both are equal.
        #expect(f[0, 3] == 0 && close(f[1, 3], 1) && f[2, 3] == 0 && close(f[3, 3], -1) && close(f[4, 3], -1))
        // volatility over 2 returns = |r[t] - r[t-1]| / 2, defined from t = 2.
        #expect(f[0, 4] == 0 && f[1, 4] == 0)
        for t in 2..<5 { #expect(close(f[t, 4], abs(r[t] - r[t - 1]) / 2), "volatility \(t)") }
    }

    @Test func longerWindows() throws {
        let f = try FeatureMatrix.compute(p, config: FeatureConfig(volumeWindow: 3, volatilityWindow: 3))
        #expect(f.warmup == 3)
        let x = [log(201.0), log(201.0), log(51.0)]  // log(1 + v) at bars 1…3
        let mean = x.reduce(0, +) / 3
        let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        #expect(abs(Double(f[3, 3]) - (x[2] - mean) / std) < 1e-5)
        let r = [log(11.0 / 10), log(9.9 / 11), log(10.89 / 9.9)]
        let rm = r.reduce(0, +) / 3
        #expect(abs(Double(f[3, 4]) - (r.map { ($0 - rm) * ($0 - rm) }.reduce(0, +) / 3).squareRoot()) < 1e-6)
        #expect(f[2, 4] == 0)
    }

    @Test func assetMajorColumnsInsideARow() throws {
        let two = Panel(
            source: "t", tickers: ["A", "B"], timestamps: [0, 86_400], open: [1, 2, 1, 2], high: [1, 2, 2, 4],
            low: [1, 2, 1, 2], close: [1, 2, 2, 4], volume: [0, 0, 0, 0], observed: [true, true, true, true])
        let f = try FeatureMatrix.compute(two, config: FeatureConfig())
        #expect(f.width == 10 && f.names[5] == "B.logReturn" && f.names[4] == "A.volatility")
        #expect(abs(f[1, 0] - Float(log(2.0))) < 1e-6 && abs(f[1, 5] - Float(log(2.0))) < 1e-6)
        #expect(abs(f[1, 6] - 0.5) < 1e-6)  // B's range at bar 1: (4 - 2) / 4
        #expect(f.warmup == 2)  // capped at the number of rows
    }

    @Test func featuresAreCausal() throws {
        let config = FeatureConfig(volumeWindow: 2, volatilityWindow: 2)
        let before = try FeatureMatrix.compute(p, config: config)
        var changed = p
        for d in 3..<5 { changed.close[d] *= 1.5; changed.high[d] *= 1.5; changed.volume[d] += 999 }
        let after = try FeatureMatrix.compute(changed, config: config)
        #expect(before.values[0..<(3 * 5)] == after.values[0..<(3 * 5)])
        #expect(before.values[(3 * 5)...] != after.values[(3 * 5)...])
    }

    @Test func aListPicksAndOrdersTheColumns() throws {
        let five = try FeatureMatrix.compute(p, config: FeatureConfig(volumeWindow: 2, volatilityWindow: 3))
        let two = try FeatureMatrix.compute(p, config: FeatureConfig([.volatility(window: 3), .logReturn]))
        #expect(two.names == ["T.volatility", "T.logReturn"] && two.width == 2)
        for t in 0..<5 { #expect(two[t, 0] == five[t, 4] && two[t, 1] == five[t, 0]) }
        #expect(two.warmup == 3 && two.warmups == ["volatility": 3, "logReturn": 1])
        #expect(throws: MarketDataError("DataConfig: features: 'logReturn' is listed twice")) {
            try FeatureMatrix.compute(p, config: FeatureConfig([.logReturn, .logReturn]))
        }
        #expect(throws: MarketDataError("DataConfig: features: volumeZ window 1 must be at least 2")) {
            try FeatureMatrix.compute(p, config: FeatureConfig([.volumeZ(window: 1)]))
        }
    }

    @Test func windowsMustBeAtLeastTwo() {
        let message = "DataConfig: features.volumeWindow 1 and features.volatilityWindow 5 must be at least 2"
        #expect(throws: MarketDataError(message)) {
            try FeatureMatrix.compute(p, config: FeatureConfig(volumeWindow: 1, volatilityWindow: 5))
        }
    }
}

struct NormaliserTests {
    /// 40 bars, ten in each year 2000…2003, with deterministic wiggles.
    func panel(_ tweak: (inout Panel) -> Void = { _ in }) -> Panel {
        let d = 40
        let stamps = (0..<d).map { day("\(2000 + $0 / 10)-03-01") + Int64($0 % 10) * 86_400 }
        let close = (0..<d).map { 100 + 5 * sin(Double($0)) + Double($0) }
        let open = close.enumerated().map { $0.element * (1 + 0.01 * cos(Double($0.offset))) }
        var p = Panel(
            source: "t", tickers: ["X"], timestamps: stamps, open: open,
            high: zip(open, close).map { max($0, $1) * 1.01 }, low: zip(open, close).map { min($0, $1) * 0.99 },
            close: close, volume: (0..<d).map { 1000 + 300 * sin(Double($0) * 0.7) },
            observed: Array(repeating: true, count: d))
        tweak(&p)
        return p
    }
    let splits = SplitConfig(train: [2000, 2001], validation: [2002, 2002], test: [2003, 2003])
    let windows = FeatureConfig(volumeWindow: 3, volatilityWindow: 3)

    func fit(_ p: Panel) throws -> Normaliser {
        let ranges = try Splits.ranges(splits, timestamps: p.timestamps)
        return try Normaliser.fit(FeatureMatrix.compute(p, config: windows), rows: ranges.train)
    }

    @Test func fittedOnTrainRowsAfterWarmupOnly() throws {
        let p = panel()
        let f = try FeatureMatrix.compute(p, config: windows)
        let n = try fit(p)
        #expect(n.fittedRows == 3..<20)
        let column = (3..<20).map { Double(f[$0, 1]) }
        let mean = column.reduce(0, +) / 17
        let std = (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 17).squareRoot()
        #expect(abs(n.mean[1] - mean) < 1e-12 && abs(n.std[1] - std) < 1e-12)
        let z = try n.apply(f)
        #expect(abs(Double(z[5, 1]) - (Double(f[5, 1]) - mean) / std) < 1e-6)
    }

    @Test func validationAndTestBarsDoNotChangeTheNormaliser() throws {
        let original = try fit(panel())
        let other = try fit(
            panel { p in
                for d in 20..<40 {
                    p.close[d] *= 3; p.high[d] *= 3.5; p.open[d] *= 2; p.low[d] *= 0.5; p.volume[d] *= 10
                }
            })
        #expect(original == other)
        // …while changing one training bar does change it (the comparison can fail).
        let changed = try fit(
            panel { p in
                p.close[10] *= 1.2; p.high[10] *= 1.2
            })
        #expect(original != changed)
    }

    @Test func codableRoundTripAndColumnCheck() throws {
        let n = try fit(panel())
        let decoded = try JSONDecoder().decode(Normaliser.self, from: JSONEncoder().encode(n))
        #expect(decoded == n)
        let two = Panel(
            source: "t", tickers: ["A", "B"], timestamps: [0], open: [1, 1], high: [1, 1], low: [1, 1],
            close: [1, 1], volume: [0, 0], observed: [true, true])
        let message =
            "Normaliser: fitted on 5 columns (X.logReturn, X.range, X.body…) "
            + "but the features have 10 (A.logReturn, A.range, A.body…)"
        #expect(throws: MarketDataError(message)) { try n.apply(FeatureMatrix.compute(two, config: windows)) }
    }
}
