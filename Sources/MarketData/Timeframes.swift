/// A calendar period that the file's bars are aggregated into (UTC): a day, an ISO week (Monday to Sunday), a month.
public enum Timeframe: String, Codable, Sendable, CaseIterable {
    case daily, weekly, monthly

    /// The period index of a timestamp (seconds since 1970, UTC): consecutive periods have consecutive indices.
    public func period(of t: Int64) -> Int64 {
        let days = DateParser.floorDiv(t, 86_400)
        switch self {
        case .daily: return days
        case .weekly: return DateParser.floorDiv(days + 3, 7)  // 1970-01-01 was a Thursday: weeks start on Monday
        case .monthly:
            let (y, m, _) = DateParser.civil(fromDays: days)
            return Int64(y * 12 + m - 1)
        }
    }
}

/// Features of coarser time frames, aggregated from the file's bars and appended to every bar's row.
///
/// Each period's bar is open of its first bar, max high, min low, close of its last bar, Σ volume. Its features are
/// computed on the series of period bars exactly as the bars' own (`FeatureMatrix.compute`), and bar t sees the
/// features of the LAST PERIOD THAT ENDED BEFORE t: a week becomes visible at the first bar after the week's last bar,
/// never at its own last bar (that the week is over is only known when a bar of the next week arrives), so nothing a
/// bar sees depends on its own period's bars or later ones.
public enum Timeframes {
    /// The bars' features followed by one block of N·K per-asset features per time frame (columns
    /// `TICKER.weekly.logReturn`, …; the calendar is the bars' own and is not repeated); `warmup` is the first bar
    /// where every block is defined.
    public static func features(_ panel: Panel, config: FeatureConfig, timeframes: [Timeframe]) throws -> FeatureMatrix
    {
        let base = try FeatureMatrix.compute(panel, config: config)
        guard !timeframes.isEmpty else { return base }
        guard Set(timeframes).count == timeframes.count else {
            throw MarketDataError("DataConfig: timeframes \(timeframes.map(\.rawValue)) lists a time frame twice")
        }
        var blocks = [base]
        for frame in timeframes {
            let (periods, lastBar) = aggregate(panel, frame)
            guard periods.barCount < panel.barCount else {
                throw MarketDataError(
                    "DataConfig: timeframes: '\(frame.rawValue)' is not coarser than the file's "
                        + "bars (one bar per period)"
                )
            }
            var f = try FeatureMatrix.compute(periods, config: config.perAsset)
            f.names = f.names.map { name in
                let dot = name.lastIndex(of: ".")!
                return String(name[..<dot]) + "." + frame.rawValue + String(name[dot...])
            }
            // rowOf[t]: the period row visible at bar t (the last period whose last bar is before t), −1 if none yet.
            var rowOf = [Int](repeating: -1, count: panel.barCount)
            var p = -1
            for t in 0..<panel.barCount {
                while p + 1 < lastBar.count && lastBar[p + 1] < t { p += 1 }
                rowOf[t] = p
            }
            var block = f.expanded(rowOf)
            block.warmups = [frame.rawValue: block.warmup]
            blocks.append(block)
        }
        return FeatureMatrix.concatenated(blocks)
    }

    /// `panel`'s bars aggregated per period of `frame` (timestamps: the period's first bar's; an asset's period is
    /// observed where any of its bars is), and the index of each period's last bar.
    public static func aggregate(_ panel: Panel, _ frame: Timeframe) -> (panel: Panel, lastBar: [Int]) {
        let n = panel.assetCount
        var starts: [Int] = []
        var previous: Int64?
        for (t, ts) in panel.timestamps.enumerated() {
            let p = frame.period(of: ts)
            if p != previous { starts.append(t); previous = p }
        }
        let ends = Array(starts.dropFirst()) + [panel.barCount]
        let m = starts.count
        var open = [Double](repeating: 0, count: m * n), high = open, low = open, close = open, volume = open
        var observed = [Bool](repeating: false, count: m * n)
        for (k, (s, e)) in zip(starts, ends).enumerated() {
            for i in 0..<n {
                var h = -Double.infinity, l = Double.infinity, v = 0.0
                for t in s..<e {
                    h = max(h, panel.high[t * n + i]); l = min(l, panel.low[t * n + i]); v += panel.volume[t * n + i]
                    if panel.observed[t * n + i] { observed[k * n + i] = true }
                }
                open[k * n + i] = panel.open[s * n + i]
                close[k * n + i] = panel.close[(e - 1) * n + i]
                high[k * n + i] = h; low[k * n + i] = l; volume[k * n + i] = v
            }
        }
        let aggregated = Panel(
            source: panel.source, tickers: panel.tickers, timestamps: starts.map { panel.timestamps[$0] },
            open: open, high: high, low: low, close: close, volume: volume, observed: observed)
        return (aggregated, ends.map { $0 - 1 })
    }
}

extension Panel {
    /// Bar t's date as text (`2018-12-31`, or `2017-01-02 15:00:00` for intraday bars), for reports.
    public func dateText(ofBar t: Int) -> String { DateParser.format(timestamps[t]) }
}
