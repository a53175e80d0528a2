import Foundation
import Testing

@testable import MarketData

/// The features beyond the original five, each against values worked out by hand on a short series.
@Suite struct LiteratureFeatureTests {
    let c: [Double] = [10, 11, 10.5, 11.5, 12, 11, 11.5, 12.5]
    var bars: FeatureMatrix.Bars { .init(open: c, high: c, low: c, close: c, volume: c.map { _ in 0 }) }

    func near(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(b))
    }
    /// Three bars at 5: no change at all.
    let flat = FeatureMatrix.Bars(
        open: [5, 5, 5], high: [5, 5, 5], low: [5, 5, 5], close: [5, 5, 5], volume: [0, 0, 0])

    @Test func levelIsTheClose() {
        #expect(FeatureMatrix.columns(.level, bars) == [c])
    }

    @Test func returnsOverTheirExponentiallyWeightedVolatility() {
        // Span 3: α = 0.5, so the return u bars before t weighs 0.5^u. σ_t is the weighted std of r_1…r_t with the
        // bias correction (Σw)² / ((Σw)² − Σw²), defined once 3 returns are in (t = 3).
        let r = (1..<c.count).map { c[$0] / c[$0 - 1] - 1 }  // r[u − 1] is the return of bar u
        func sigma(_ t: Int) -> Double {
            let w = (1...t).map { pow(0.5, Double(t - $0)) }, x = Array(r[0..<t])
            let sw = w.reduce(0, +), sw2 = w.map { $0 * $0 }.reduce(0, +)
            let mean = zip(w, x).map { $0 * $1 }.reduce(0, +) / sw
            let biased = zip(w, x).map { $0 * ($1 - mean) * ($1 - mean) }.reduce(0, +) / sw
            return (biased * sw * sw / (sw * sw - sw2)).squareRoot()
        }
        let cols = FeatureMatrix.columns(.returns(horizons: [1, 2], normalise: .volatility, span: 3), bars)
        #expect(cols.count == 2 && cols[0][..<3].allSatisfy { $0.isNaN } && cols[1][..<3].allSatisfy { $0.isNaN })
        for t in 3..<c.count {
            #expect(near(cols[0][t], (c[t] / c[t - 1] - 1) / sigma(t)), "return1 at \(t)")
            #expect(near(cols[1][t], (c[t] / c[t - 2] - 1) / (sigma(t) * 2.0.squareRoot())), "return2 at \(t)")
        }
        // σ at t = 3 by hand: r = 0.1, −1/22, 2/21 with weights 0.25, 0.5, 1.
        let x = [0.1, -1.0 / 22, 2.0 / 21], mean = (0.25 * x[0] + 0.5 * x[1] + x[2]) / 1.75
        let variance = (0.25 * pow(x[0] - mean, 2) + 0.5 * pow(x[1] - mean, 2) + pow(x[2] - mean, 2)) / 1.75 * 1.75
        #expect(near(cols[0][3], (11.5 / 10.5 - 1) / variance.squareRoot()))
        let plain = FeatureMatrix.columns(.returns(horizons: [3], normalise: .none, span: 60), bars)[0]
        #expect(plain[..<3].allSatisfy { $0.isNaN } && near(plain[3], 0.15) && near(plain[7], 12.5 / 12 - 1))
    }

    @Test func normalisedMACD() {
        // Pair (1, 2): EWM_1 is the close itself, EWM_2 weighs the close u bars back by 0.5^u (normalised); q divides
        // by the sample std of the last 2 closes, y by the sample std of the last 3 q's (defined from t = 1 + 2).
        func ewm2(_ t: Int) -> Double {
            let w = (0...t).map { pow(0.5, Double(t - $0)) }
            return zip(w, c[0...t]).map { $0 * $1 }.reduce(0, +) / w.reduce(0, +)
        }
        func sampleStd(_ x: [Double]) -> Double {
            let m = x.reduce(0, +) / Double(x.count)
            return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
        }
        let q = (0..<c.count).map { t in t == 0 ? 0 : (c[t] - ewm2(t)) / sampleStd([c[t - 1], c[t]]) }
        let y = FeatureMatrix.columns(.macd(pairs: [[1, 2]], priceWindow: 2, signalWindow: 3, response: false), bars)[0]
        let response = Feature.macd(pairs: [[1, 2]], priceWindow: 2, signalWindow: 3, response: true)
        let phi = FeatureMatrix.columns(response, bars)[0]
        #expect(y[..<3].allSatisfy { $0.isNaN })
        for t in 3..<c.count {
            let expected = q[t] / sampleStd(Array(q[(t - 2)...t]))
            #expect(near(y[t], expected), "macd at \(t)")
            #expect(near(phi[t], expected * exp(-expected * expected / 4) / 0.89), "response at \(t)")
        }
        // q at t = 1 by hand: EWM_2 = (0.5·10 + 11) / 1.5 = 32/3, std of (10, 11) = √0.5.
        #expect(near(q[1], (11 - 32.0 / 3) / 0.5.squareRoot()))
    }

    @Test func wilderRSI() {
        // Window 2. Changes: +1, −0.5, +1, +0.5, −1, +0.5, +1. At t = 2: G = (1 + 0)/2, L = (0 + 0.5)/2; then
        // G ← (G + gain)/2, L ← (L + loss)/2.
        let rsi = FeatureMatrix.columns(.rsi(window: 2), bars)[0]
        let expected = [
            100 * 0.5 / 0.75, 100 * 0.75 / 0.875, 100 * 0.625 / 0.6875, 100 * 0.3125 / 0.84375,
            100 * 0.40625 / 0.671875, 100 * 0.703125 / 0.8359375,
        ]
        #expect(rsi[0].isNaN && rsi[1].isNaN)
        for t in 2..<c.count { #expect(near(rsi[t], expected[t - 2]), "rsi at \(t)") }
        #expect(FeatureMatrix.columns(.rsi(window: 2), flat)[0][2] == 50)  // no gains and no losses
    }

    @Test func zscoreOfThePrice() {
        // Window 3 (population std): at t = 2 the closes 10, 11, 10.5 have mean 10.5 (z = 0); at t = 3 the closes 11,
        // 10.5, 11.5 have mean 11 and std √(1/6).
        let z = FeatureMatrix.columns(.zscore(window: 3), bars)[0]
        #expect(z[0].isNaN && z[1].isNaN && abs(z[2]) < 1e-12)
        #expect(near(z[3], 0.5 / (1.0 / 6).squareRoot()))
        #expect(near(z[5], -0.5 / (1.0 / 6).squareRoot()))  // 11.5, 12, 11: mean 11.5, std √(1/6)
        #expect(FeatureMatrix.columns(.zscore(window: 2), flat)[0][1...] == [0, 0])  // std 0 → 0
    }

    @Test func calendarAsSinCosPairs() {
        let days = ["2000-01-03", "2000-01-05", "2000-07-01", "2000-12-31"].map(day)  // Mon, Wed, Sat, Sun
        let cal = FeatureMatrix.calendar(days, dayOfWeek: true, monthOfYear: true)
        let weekday = [0.0, 2, 5, 6], month = [1.0, 1, 7, 12]
        for k in 0..<4 {
            #expect(near(cal[0][k], sin(2 * .pi * weekday[k] / 7)) && near(cal[1][k], cos(2 * .pi * weekday[k] / 7)))
            let angle = 2 * .pi * (month[k] - 1) / 12
            #expect(near(cal[2][k], sin(angle)) && near(cal[3][k], cos(angle)))
        }
        #expect(cal[0][0] == 0 && cal[1][0] == 1 && near(cal[2][3], -0.5) && near(cal[3][3], 3.0.squareRoot() / 2))
        #expect(FeatureMatrix.calendar(days, dayOfWeek: false, monthOfYear: true).count == 2)
    }

    @Test func crossSectionalRankInMinusOneToOne() throws {
        // Three assets; log returns at bar 1: log 3, log 1 = 0, log 2 → ranks 3, 1, 2 → 1, −1, 0. At bar 2 the first
        // two tie (log 2 each, mean rank 1.5 → −0.5) below the third (log 4 → 1).
        let prices: [Double] = [1, 1, 1, 3, 1, 2, 6, 2, 8]
        let p = Panel(
            source: "t", tickers: ["A", "B", "C"], timestamps: [0, 86_400, 172_800],
            open: prices, high: prices, low: prices, close: prices, volume: [Double](repeating: 0, count: 9),
            observed: [Bool](repeating: true, count: 9))
        let f = try FeatureMatrix.compute(p, config: FeatureConfig([.logReturn, .crossSectionalRank(of: "logReturn")]))
        #expect(
            f.names == [
                "A.logReturn", "A.logReturnRank", "B.logReturn", "B.logReturnRank", "C.logReturn",
                "C.logReturnRank",
            ])
        #expect([f[1, 1], f[1, 3], f[1, 5]] == [1, -1, 0])
        #expect([f[2, 1], f[2, 3], f[2, 5]] == [-0.5, -0.5, 1])
        #expect([f[0, 1], f[0, 3], f[0, 5]] == [0, 0, 0])  // all equal (no return yet): the middle
        let one = try FeatureMatrix.compute(
            series(open: c, high: c, low: c, close: c, volume: c),
            config: FeatureConfig([.logReturn, .crossSectionalRank(of: "logReturn")]))
        #expect((0..<one.rows).allSatisfy { one[$0, 1] == 0 })
    }

    @Test func layoutNamesAndWarmups() throws {
        let config = FeatureConfig([
            .logReturn, .returns(horizons: [21, 252], normalise: .volatility, span: 60),
            .macd(pairs: [[8, 24]], priceWindow: 63, signalWindow: 252, response: false),
            .rsi(window: 14), .calendar(dayOfWeek: true, monthOfYear: false),
            .crossSectionalRank(of: "return21"),
        ])
        #expect(config.assetColumns == ["logReturn", "return21", "return252", "macd8_24", "rsi", "return21Rank"])
        #expect(config.marketColumns == ["calendar.dayOfWeekSin", "calendar.dayOfWeekCos"])
        #expect(config.warmups.map(\.bars) == [1, 252, 313, 14, 0, 252] && config.warmup == 313)
        let p = series(open: c, high: c, low: c, close: c, volume: c)
        let f = try FeatureMatrix.compute(p, config: config)
        #expect(f.width == 8 && f.names[6] == "calendar.dayOfWeekSin" && f.warmup == c.count)  // capped at D
        #expect(f.warmups["macd"] == 313 && f.warmups["rsi"] == 14)
        // Rows before a feature's warm-up hold 0, never a later value.
        #expect((0..<c.count).allSatisfy { f[$0, 1] == 0 && f[$0, 3] == 0 && f[$0, 4] == 0 })
        #expect(f[1, 0] != 0)
    }

    /// Three random walks of 400 bars, every field perturbed from bar `from` on when given.
    func walks(perturbedFrom from: Int? = nil) -> Panel {
        let n = 3, d = 400
        var open: [Double] = [], high: [Double] = [], low: [Double] = [], close: [Double] = [], volume: [Double] = []
        var level = [100.0, 50, 20]
        for t in 0..<d {
            for i in 0..<n {
                let o = level[i]
                level[i] *= 1 + 0.02 * sin(Double(t * (i + 3)) * 0.77) + 0.003 * cos(Double(t) * 0.13)
                var f = 1.0, v = 1000 + 400 * sin(Double(t + i))
                if let from, t >= from { f = 1 + 0.05 * sin(Double(t * 7 + i)); v *= 2 }
                open.append(o * f); close.append(level[i] * f); volume.append(v)
                high.append(max(o, level[i]) * 1.01 * f); low.append(min(o, level[i]) * 0.99 * f)
            }
        }
        let timestamps = (0..<d).map { day("2001-01-01") + Int64($0) * 86_400 }
        return Panel(
            source: "walks", tickers: ["A", "B", "C"], timestamps: timestamps, open: open, high: high,
            low: low, close: close, volume: volume, observed: [Bool](repeating: true, count: n * d))
    }

    /// Perturbing every bar after t leaves every column at bars up to t unchanged, for each feature.
    @Test(arguments: Feature.defaults.map(\.name))
    func everyFeatureIsCausal(name: String) throws {
        let feature =
            name == "crossSectionalRank"
            ? .crossSectionalRank(of: "logReturn")
            : Feature.defaults.first { $0.name == name }!
        let config = FeatureConfig(name == "logReturn" ? [feature] : [.logReturn, feature])
        let base = try FeatureMatrix.compute(walks(), config: config)
        for cut in [40, 150, 320, 398] {
            let other = try FeatureMatrix.compute(walks(perturbedFrom: cut + 1), config: config)
            let upto = (cut + 1) * base.width
            #expect(base.values[..<upto] == other.values[..<upto], "\(name) moves at or before bar \(cut)")
            if name != "calendar" && cut < 398 - 1 {
                #expect(base.values[upto...] != other.values[upto...], "\(name) ignores the bars after \(cut)")
            }
        }
    }
}
