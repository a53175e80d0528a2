import Foundation
import Testing

@testable import MarketData

@Suite struct TimeframeTests {
    /// Weekdays from Monday 2001-01-01 for `weeks` weeks, without the Friday of week 10 (a holiday), random prices.
    func panel(weeks: Int = 70) -> Panel {
        var timestamps: [Int64] = []
        let start = DateParser.daysFromCivil(2001, 1, 1)
        for w in 0..<weeks {
            for d in 0..<5 where !(w == 10 && d == 4) { timestamps.append((start + Int64(w * 7 + d)) * 86_400) }
        }
        var close: [Double] = [], open: [Double] = [], volume: [Double] = []
        var c = 100.0
        for t in timestamps.indices {
            let o = c
            c *= 1 + 0.01 * sin(Double(t) * 1.7) + 0.004 * cos(Double(t) * 0.31)
            open.append(o); close.append(c); volume.append(1000 + 300 * sin(Double(t)))
        }
        return Panel(
            source: "synthetic", tickers: ["X"], timestamps: timestamps, open: open,
            high: zip(open, close).map { max($0, $1) * 1.002 }, low: zip(open, close).map { min($0, $1) * 0.998 },
            close: close, volume: volume, observed: [Bool](repeating: true, count: timestamps.count))
    }

    let config = FeatureConfig(volumeWindow: 3, volatilityWindow: 3)

    func perturbed(_ p: Panel, bars: Range<Int>) -> Panel {
        var q = p
        for t in bars { q.close[t] *= 1.07; q.high[t] *= 1.07; q.open[t] *= 1.03; q.low[t] *= 1.03; q.volume[t] *= 3 }
        return q
    }

    func columns(_ m: FeatureMatrix, _ frame: Timeframe) -> [Int] {
        m.names.indices.filter { m.names[$0].contains(".\(frame.rawValue).") }
    }

    @Test func weeklyBarsAreVisibleFromTheFirstDayAfterTheWeek() throws {
        let p = panel()
        let f = try Timeframes.features(p, config: config, timeframes: [.weekly, .monthly])
        #expect(f.width == 15 && f.names[5] == "X.weekly.logReturn" && f.names[10] == "X.monthly.logReturn")
        let (weeks, lastBar) = Timeframes.aggregate(p, .weekly)
        let w = try FeatureMatrix.compute(weeks, config: config)
        // Week 10 has no Friday: its last bar is Thursday (bar 53); week 11 starts at bar 54.
        #expect(lastBar[10] == 53 && weeks.close[10] == p.close[53] && weeks.open[10] == p.open[50])
        #expect(weeks.volume[10] == p.volume[50...53].reduce(0, +))
        let weekly = columns(f, .weekly)
        for t in [53, 54, 55] {
            let visible = t <= 53 ? 9 : 10  // on its own last bar, week 10 is not visible yet
            for (k, j) in weekly.enumerated() { #expect(f[t, j] == w[visible, k]) }
        }
    }

    @Test func perturbingTheUnfinishedWeekOrMonthDoesNotChangeToday() throws {
        let p = panel()
        let f = try Timeframes.features(p, config: config, timeframes: [.weekly, .monthly])
        // Wednesday of week 20 is bar 20*5 − 1 + 2 = 101 (week 10 lost a day): perturb Monday…end of data.
        let t = 101, monday = 99
        #expect(Timeframe.weekly.period(of: p.timestamps[monday]) == Timeframe.weekly.period(of: p.timestamps[t]))
        #expect(Timeframe.weekly.period(of: p.timestamps[monday - 1]) != Timeframe.weekly.period(of: p.timestamps[t]))
        let g = try Timeframes.features(
            perturbed(p, bars: monday..<p.barCount), config: config, timeframes: [.weekly, .monthly])
        for j in columns(f, .weekly) { #expect(f[t, j] == g[t, j]) }
        // The same perturbation starting one day earlier (the last day of the previous, finished week) does change it.
        let h = try Timeframes.features(
            perturbed(p, bars: (monday - 1)..<p.barCount), config: config, timeframes: [.weekly])
        #expect(columns(f, .weekly).contains { f[t, $0] != h[t, $0] })
        // Months: perturb from the first bar of t's month.
        var first = t
        while Timeframe.monthly.period(of: p.timestamps[first - 1]) == Timeframe.monthly.period(of: p.timestamps[t]) {
            first -= 1
        }
        let m = try Timeframes.features(
            perturbed(p, bars: first..<p.barCount), config: config, timeframes: [.weekly, .monthly])
        for j in columns(f, .monthly) { #expect(f[t, j] == m[t, j]) }
        let m2 = try Timeframes.features(
            perturbed(p, bars: (first - 1)..<p.barCount), config: config, timeframes: [.monthly])
        let monthly2 = m2.names.indices.filter { m2.names[$0].contains(".monthly.") }
        #expect(zip(columns(f, .monthly), monthly2).contains { f[t, $0] != m2[t, $1] })
    }

    @Test func warmupCoversTheCoarsestTimeFrame() throws {
        let p = panel()
        let f = try Timeframes.features(p, config: config, timeframes: [.monthly])
        let (months, lastBar) = Timeframes.aggregate(p, .monthly)
        let warm = try FeatureMatrix.compute(months, config: config).warmup
        // The first bar after month `warm` closed.
        #expect(f.warmup == lastBar[warm] + 1)
        let notCoarser = "DataConfig: timeframes: 'daily' is not coarser than the file's bars (one bar per period)"
        #expect(throws: MarketDataError(notCoarser)) {
            try Timeframes.features(p, config: config, timeframes: [.daily])
        }
        #expect(throws: MarketDataError(#"DataConfig: timeframes ["weekly", "weekly"] lists a time frame twice"#)) {
            try Timeframes.features(p, config: config, timeframes: [.weekly, .weekly])
        }
    }
}
