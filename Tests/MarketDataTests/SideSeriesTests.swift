import Foundation
import Testing

@testable import MarketData

/// Side series: reading, the as-of join (gaps, late starts, extra dates, intraday bars) and causality.
@Suite struct SideSeriesTests {
    /// Weekday bars from Monday 2001-01-01 (two weeks: 10 bars).
    let bars: [Int64] = (0..<14).filter { $0 % 7 < 5 }.map { day("2001-01-01") + Int64($0) * 86_400 }

    func side(_ dates: [String], _ values: [Double]) -> SideSeries {
        SideSeries(name: "S", timestamps: dates.map(day), values: values)
    }

    @Test func asOfJoinOnTheDate() {
        // Daily values on the bars' own days: each bar sees the value of its own date (known at its close).
        let s = side(["2001-01-01", "2001-01-02", "2001-01-03"], [1, 2, 3])
        #expect(SideSeries.visibleRows(s.timestamps, at: Array(bars[0..<3])) == [0, 1, 2])
        // A value dated after a bar's date never appears at that bar, even with a gap before it (Friday has none).
        let later = side(["2001-01-02", "2001-01-03", "2001-01-04", "2001-01-08"], [2, 3, 4, 8])
        #expect(SideSeries.visibleRows(later.timestamps, at: Array(bars[0..<6])) == [-1, 0, 1, 2, 2, 3])
        #expect(later.values(at: Array(bars[0..<6])).dropFirst() == [2, 3, 4, 4, 8])
        // The period of a calendar is its most common spacing (the longer one on a tie).
        #expect(SideSeries.period(later.timestamps) == 86_400 && SideSeries.period(bars) == 86_400)
        #expect(SideSeries.period([0, 86_400, 3 * 86_400]) == 2 * 86_400 && SideSeries.period([5]) == 86_400)
    }

    @Test func extraDatesAreFoldedIntoTheNextBar() throws {
        // A value on Saturday 2001-01-06 (no bar) is seen from Monday's bar on, and its features use it: Monday's
        // logReturn is log(Monday / Saturday), not log(Monday / Friday).
        let s = side(["2001-01-03", "2001-01-04", "2001-01-05", "2001-01-06", "2001-01-08"], [8, 9, 10, 11, 12.1])
        let f = try s.features(at: Array(bars[2..<6]), config: SideSeriesConfig(file: "s.csv", column: "v"))
        #expect(f.names == ["S.level", "S.logReturn"])
        #expect(f[2, 0] == 10 && f[3, 0] == Float(12.1) && abs(f[3, 1] - Float(log(12.1 / 11))) < 1e-7)
    }

    @Test func gapsAreCarriedUpToMaxGapFill() throws {
        // No value on Wednesday and Thursday: those two bars carry Tuesday's.
        let s = side(
            ["2001-01-01", "2001-01-02", "2001-01-05", "2001-01-08", "2001-01-09", "2001-01-10"],
            [1, 2, 5, 8, 9, 10])
        let week = Array(bars[0..<6])
        var config = SideSeriesConfig(file: "s.csv", column: "v", features: FeatureConfig([.level]), maxGapFill: 2)
        let f = try s.features(at: week, config: config)
        #expect((0..<6).map { f[$0, 0] } == [1, 2, 2, 2, 5, 8])
        config.maxGapFill = 1
        #expect(
            throws: MarketDataError(
                "DataConfig: side series 'S': 2 bars in a row without a new value, "
                    + "2001-01-03..2001-01-04 (last value 2001-01-02); maxGapFill is 1")
        ) {
            try s.features(at: week, config: config)
        }
        // A series that ends early is a gap that runs to the last bar.
        config.maxGapFill = 2
        let ends = side(["2001-01-01", "2001-01-02", "2001-01-03", "2001-01-04", "2001-01-05"], [1, 2, 3, 4, 5])
        #expect(
            throws: MarketDataError(
                "DataConfig: side series 'S': 3 bars in a row without a new value, "
                    + "2001-01-08..2001-01-10 (last value 2001-01-05); maxGapFill is 2")
        ) {
            try ends.features(at: Array(bars[0..<8]), config: config)
        }
    }

    @Test func aLateStartIsAnErrorUnlessZeros() throws {
        let s = side(["2001-01-03", "2001-01-04", "2001-01-05"], [3, 4, 5])
        var config = SideSeriesConfig(file: "s.csv", column: "v", features: FeatureConfig([.level, .logReturn]))
        #expect(
            throws: MarketDataError(
                "DataConfig: side series 'S': its first value (2001-01-03) comes after the "
                    + "first bar (2001-01-01); set lateStart: zeros to start it at zeros")
        ) {
            try s.features(at: Array(bars[0..<5]), config: config)
        }
        config.lateStart = .zeros
        let f = try s.features(at: Array(bars[0..<5]), config: config)
        #expect((0..<5).map { f[$0, 0] } == [0, 0, 3, 4, 5] && f.warmup == 0)
        // Its own first return is at its second date.
        #expect(f[2, 1] == 0 && abs(f[3, 1] - Float(log(4.0 / 3))) < 1e-7)
        // Without zeros, an early start warms up on the series' own dates: its logReturn is defined at the first bar.
        let early = side(["2000-12-28", "2000-12-29", "2001-01-01", "2001-01-02"], [1, 1, 2, 4])
        config.lateStart = .error
        let g = try early.features(at: Array(bars[0..<2]), config: config)
        #expect(g.warmup == 0 && abs(g[0, 1] - Float(log(2.0))) < 1e-7 && g.warmups == ["S": 0])
        #expect(
            throws: MarketDataError(
                "DataConfig: side series 'S': its first value (2001-02-01) comes after the last bar")
        ) {
            try side(["2001-02-01"], [1]).features(at: bars, config: config)
        }
    }

    @Test func aDailyValueReachesHourlyBarsOnlyAfterItsDayClosed() {
        // Hourly bars 21:00, 22:00, 23:00 on 2001-01-01, then 00:00 on the 2nd; daily values of the 1st and the 2nd.
        let hourly = (21..<25).map { day("2001-01-01") + Int64($0) * 3600 }
        let s = side(["2001-01-01", "2001-01-02"], [1, 2])
        // The 1st's value is known at midnight: the 23:00 bar (closing at midnight) is the first to see it.
        #expect(SideSeries.visibleRows(s.timestamps, at: hourly) == [-1, -1, 0, 0])
        #expect(SideSeries.period(hourly) == 3600 && SideSeries.period(s.timestamps) == 86_400)
    }

    @Test func featuresAtABarIgnoreValuesKnownAfterIt() throws {
        let dates = (0..<120).map { day("2001-01-01") + Int64($0) * 86_400 }
        let values = (0..<120).map { 20 + 5 * sin(Double($0) * 0.3) }
        let s = SideSeries(name: "S", timestamps: dates, values: values)
        let config = SideSeriesConfig(
            file: "s.csv", column: "v",
            features: FeatureConfig(
                [
                    .level, .logReturn, .volatility(window: 5),
                    .returns(horizons: [1, 5], normalise: .volatility, span: 10),
                    .macd(pairs: [[2, 4]], priceWindow: 5, signalWindow: 5, response: false), .rsi(window: 3),
                    .zscore(window: 4),
                ]))
        let base = try s.features(at: dates, config: config)
        for cut in [20, 60, 100] {
            var other = s
            for j in (cut + 1)..<120 { other.values[j] *= 1.3 }  // every value dated after bar `cut`
            let changed = try other.features(at: dates, config: config)
            #expect(base.values[..<((cut + 1) * base.width)] == changed.values[..<((cut + 1) * base.width)])
            #expect(base.values[((cut + 1) * base.width)...] != changed.values[((cut + 1) * base.width)...])
        }
    }

    @Test func onlyValueFeaturesArePositiveWhereTheyNeedIt() throws {
        let s = side(["2001-01-01", "2001-01-02"], [0.5, -0.25])
        let level = SideSeriesConfig(file: "s.csv", column: "v", features: FeatureConfig([.level, .zscore(window: 2)]))
        #expect(try s.features(at: Array(bars[0..<2]), config: level)[1, 0] == -0.25)
        #expect(
            throws: MarketDataError(
                "DataConfig: side series 'S': value -0.25 on 2001-01-02 is not positive "
                    + "(logReturn, volatility and returns need positive values)")
        ) {
            try s.features(at: Array(bars[0..<2]), config: SideSeriesConfig(file: "s.csv", column: "v"))
        }
        #expect(
            throws: MarketDataError(
                "DataConfig: side series 'S': features: 'range' is not available here "
                    + "(use: level, logReturn, volatility, returns, macd, rsi, zscore)")
        ) {
            let five = SideSeriesConfig(file: "s.csv", column: "v", features: FeatureConfig())
            _ = try s.features(at: Array(bars[0..<2]), config: five)
        }
    }

    @Test func readingAColumn() throws {
        let path = writeTemp("rates.csv", "Date,Open,RATE\n2001-01-03,1,2.5\n2001-01-02,1,.\n2001-01-01,1,2.25\n")
        let s = try SideSeries.load(SideSeriesConfig(file: path, column: "rate"), baseDirectory: "")
        // Newest first is reversed; the missing value ('.') is skipped; the name is the column's.
        #expect(s.name == "rate" && s.timestamps == [day("2001-01-01"), day("2001-01-03")] && s.values == [2.25, 2.5])
        func error(_ text: String, column: String = "rate") -> String {
            let config = SideSeriesConfig(file: writeTemp("x.csv", text), column: column)
            do { _ = try SideSeries.load(config, baseDirectory: "") } catch {
                return "\(error)".replacingOccurrences(of: #"^.*/x\.csv"#, with: "x.csv", options: .regularExpression)
            }
            return "no error"
        }
        #expect(error("Date,RATE\n2001-01-01,1\n", column: "VIX") == "x.csv:1: no column 'VIX' (columns: Date, RATE)")
        #expect(
            error("Date,RATE\n2001-01-01,1\n2001-01-01,2\n")
                == "x.csv:3: column 'Date': date 2001-01-01 is not after 2001-01-01 (row 2)")
        #expect(error("Date,RATE\n2001-01-01,abc\n") == "x.csv:2: column 'RATE': 'abc' is not a finite number")
        #expect(
            error("Date,RATE\n01-2001-01,1\n")
                == "x.csv:2: column 'Date': '01-2001-01' is not a date in a supported layout (\(CSVLoader.layouts))")
        #expect(error("Date,RATE\n2001-01-01\n") == "x.csv:2: 1 fields but the header has 2 columns")
        #expect(
            error("Value,RATE\n1,1\n")
                == "x.csv:1: missing column 'date' (date, time, timestamp, datetime or an unnamed first column)")
        #expect(error("Date,RATE\n2001-01-01,\n") == "x.csv: no values in column 'RATE'")
    }

    @Test func theDatasetAppendsSideColumnsAfterTheAssets() throws {
        var config = DataConfig()
        config.side = [SideSeriesConfig(file: "data/vix_ohlc_1990_2026_datahub.csv", column: "CLOSE", name: "VIX")]
        let m = try loadMarket(config, baseDirectory: repoRoot)
        #expect(m.features.width == 7 && Array(m.features.names.suffix(2)) == ["VIX.level", "VIX.logReturn"])
        #expect(m.side.map(\.name) == ["VIX"] && m.side[0].timestamps.count == 9235)
        // 1999-01-04's VIX close was 26.17.
        #expect(m.panel.dateText(ofBar: 0) == "1999-01-04" && m.features[0, 5] == Float(26.17))
        #expect(m.summary.contains("features: 7 = 1 assets × 5 + 2 of side series VIX"))
        #expect(m.summary.contains("  VIX.level: train mean"))
        config.side[0].name = "sp500_1999_2018_arch"
        #expect(
            throws: MarketDataError(
                "DataConfig: side series name 'sp500_1999_2018_arch' is taken "
                    + "(by a ticker, another series, 'calendar' or 'basket'); set its name")
        ) {
            try loadMarket(config, baseDirectory: repoRoot)
        }
    }

    @Test func everyBlockInItsPlace() throws {
        // Assets' columns, the calendar, a coarser time frame, then the side series.
        var config = DataConfig()
        config.features = FeatureConfig([.logReturn, .calendar(dayOfWeek: true, monthOfYear: false)])
        config.timeframes = [.weekly]
        config.side = [SideSeriesConfig(file: "data/vix_ohlc_1990_2026_datahub.csv", column: "CLOSE", name: "VIX")]
        let m = try loadMarket(config, baseDirectory: repoRoot)
        let t = "sp500_1999_2018_arch"
        #expect(
            m.features.names == [
                "\(t).logReturn", "calendar.dayOfWeekSin", "calendar.dayOfWeekCos",
                "\(t).weekly.logReturn", "VIX.level", "VIX.logReturn",
            ])
        #expect(m.summary.contains("features: 6 = 1 assets × 1 × 2 time frames + 2 calendar + 2 of side series VIX"))
        for name in ["calendar.dayOfWeekSin", "calendar.dayOfWeekCos", "VIX.level", "VIX.logReturn"] {
            #expect(m.summary.contains("\n  \(name): train mean"), "\(name)")
        }
        #expect(!m.summary.contains("weekly.logReturn: train mean"))
    }

    @Test func aSideSeriesAsTheLabelTarget() throws {
        let ones: [Double] = [1, 1, 1, 1]
        let p = series(open: ones, high: ones, low: ones, close: ones, volume: ones)
        // Values dated 2000-01-02 … 2000-01-06 (the panel's days are the 3rd to the 6th); the 5th's is missing
        // (carried).
        let s = side(["2000-01-02", "2000-01-03", "2000-01-04", "2000-01-06"], [99, 100, 102, 99])
        let config = EventLabelConfig(target: "S", up: 0.01, down: 0.005, horizon: 1)
        let labels = try EventLabels.compute(p, side: [s], config: config)
        #expect(labels.series == [100, 102, 102, 99] && labels.values == [1, 0, 0, -1] && labels.weights == [1])
        #expect(
            throws: MarketDataError(
                "labels: target 'S' has no value at 2000-01-03 (the side series starts "
                    + "later); a target needs a value at every bar")
        ) {
            try EventLabels.compute(p, side: [side(["2000-01-04"], [1])], config: config)
        }
        let message = "labels: target 'V' is not 'basket' nor a ticker of the data (T; side series: S)"
        #expect(throws: MarketDataError(message)) {
            let other = EventLabelConfig(target: "V", up: 0.01, down: 0.005, horizon: 1)
            _ = try EventLabels.compute(p, side: [s], config: other)
        }
    }
}
