/// Puts per-asset series on one calendar and builds the `Panel`.
enum Alignment {
    /// Aligns `assets` on the union of their dates, after applying the late-asset policy, forward-filling gaps of at
    /// most `config.maxGapFill` bars (open = high = low = close = previous close, volume 0, `observed = false`).
    static func panel(_ assets: [AssetSeries], config: DataConfig, report: inout LoadReport) throws -> Panel {
        let name = config.file
        guard config.maxGapFill >= 0 else {
            throw MarketDataError("DataConfig: maxGapFill \(config.maxGapFill) is negative")
        }
        var kept = assets
        if let empty = kept.first(where: { $0.timestamps.isEmpty }), config.lateAssets == .trim || kept.count == 1 {
            throw MarketDataError("\(name): ticker '\(empty.ticker)' has no bars\(rangeText(config))")
        }
        kept.removeAll { a in
            if a.timestamps.isEmpty { report.droppedAssets.append(a.ticker) }
            return a.timestamps.isEmpty
        }
        let firsts = kept.compactMap(\.timestamps.first), lasts = kept.compactMap(\.timestamps.last)
        guard var lo = firsts.min(), var hi = lasts.max() else {
            throw MarketDataError("\(name): no bars\(rangeText(config))")
        }
        switch config.lateAssets {
        case .drop:
            let covers = { (a: AssetSeries) in a.timestamps.first == lo && a.timestamps.last == hi }
            guard kept.contains(where: covers) else {
                throw MarketDataError(
                    "\(name): no asset covers the whole range \(DateParser.format(lo))..\(DateParser.format(hi)) "
                        + "(lateAssets: drop); use lateAssets: trim"
                )
            }
            // Dropping most of a panel is a data problem (e.g. one stray row past every other ticker's end), not a
            // choice: it is an error naming who sets the range.
            func names(_ a: [AssetSeries]) -> String {
                a.prefix(3).map(\.ticker).joined(separator: ", ") + (a.count > 3 ? ", …" : "")
            }
            let covering = kept.filter(covers)
            if covering.count * 2 < kept.count {
                let first = names(kept.filter { $0.timestamps.first == lo })
                let last = names(kept.filter { $0.timestamps.last == hi })
                throw MarketDataError(
                    "\(name): lateAssets: drop would keep \(covering.count) of \(kept.count) assets "
                        + "(\(names(covering))), the only ones from \(DateParser.format(lo)) "
                        + "(the first bar of \(first)) to \(DateParser.format(hi)) (the last bar of \(last)); "
                        + "check those rows, or use lateAssets: trim"
                )
            }
            // An asset that starts late is left out from the first bar, where its absence is already known. One
            // whose rows end early would be left out of every bar for what its later rows show (survivorship): the
            // panel must not be chosen with rows after the bars it is chosen for.
            let ended = kept.filter { $0.timestamps.last != hi }
            if let first = ended.first, let last = first.timestamps.last {
                let more = ended.count > 1 ? " (and \(ended.count - 1) more: \(names(Array(ended.dropFirst()))))" : ""
                throw MarketDataError(
                    "\(name): ticker '\(first.ticker)' ends \(DateParser.format(last)), before the panel's last bar "
                        + "\(DateParser.format(hi))\(more); lateAssets: drop would leave it out of every bar, a choice "
                        + "made with rows after them (survivorship bias): end the data there (data.end), use "
                        + "lateAssets: trim, or list the tickers to keep (data.tickers)"
                )
            }
            report.droppedAssets += kept.filter { !covers($0) }.map(\.ticker)
            kept = covering
        case .trim:
            lo = firsts.max() ?? lo; hi = lasts.min() ?? hi
            guard lo <= hi else {
                throw MarketDataError(
                    "\(name): the assets share no dates (one starts \(DateParser.format(lo)), another ends "
                        + "\(DateParser.format(hi)))"
                )
            }
        }

        // Calendar: union of the kept assets' dates in [lo, hi].
        var calendar: [Int64] = []
        for a in kept where a.timestamps != calendar { calendar = merge(calendar, a.timestamps) }
        let union = calendar.count
        calendar.removeAll { $0 < lo || $0 > hi }
        report.trimmedBars = union - calendar.count

        let n = kept.count, d = calendar.count
        var open = [Double](repeating: 0, count: d * n), high = open, low = open, close = open, volume = open
        var observed = [Bool](repeating: false, count: d * n)
        for (i, a) in kept.enumerated() {
            var k = 0
            var previousClose = Double.nan
            while k < a.timestamps.count, a.timestamps[k] < calendar[0] { previousClose = a.close[k]; k += 1 }
            var gapStart = -1
            for t in 0..<d {
                let cell = t * n + i
                if k < a.timestamps.count, a.timestamps[k] == calendar[t] {
                    open[cell] = a.open[k]; high[cell] = a.high[k]; low[cell] = a.low[k]; close[cell] = a.close[k]
                    volume[cell] = a.volume[k]; observed[cell] = true
                    previousClose = a.close[k]; k += 1; gapStart = -1
                    continue
                }
                if gapStart < 0 { gapStart = t }
                if t - gapStart + 1 > config.maxGapFill || previousClose.isNaN {
                    let gapEnd = gapEndIndex(a, from: k, calendar: calendar, after: t)
                    let length = gapEnd - gapStart
                    let why = previousClose.isNaN ? "no earlier bar to fill from" : "maxGapFill is \(config.maxGapFill)"
                    throw MarketDataError(
                        "\(name): ticker '\(a.ticker)': \(length) bar\(length == 1 ? "" : "s") missing from "
                            + "\(DateParser.format(calendar[gapStart])) to \(DateParser.format(calendar[gapEnd - 1])) "
                            + "(\(why))"
                    )
                }
                open[cell] = previousClose; high[cell] = previousClose; low[cell] = previousClose;
                close[cell] = previousClose
                report.filledCells += 1
            }
        }
        return Panel(
            source: name, tickers: kept.map(\.ticker), timestamps: calendar, open: open, high: high, low: low,
            close: close, volume: volume, observed: observed)
    }

    /// First calendar index after `t` at which the asset has a bar (or the calendar's end): where a gap stops.
    private static func gapEndIndex(_ a: AssetSeries, from k: Int, calendar: [Int64], after t: Int) -> Int {
        guard k < a.timestamps.count else { return calendar.count }
        var e = t + 1
        while e < calendar.count, calendar[e] < a.timestamps[k] { e += 1 }
        return e
    }

    /// Sorted union of two ascending arrays.
    static func merge(_ x: [Int64], _ y: [Int64]) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(max(x.count, y.count))
        var i = 0, j = 0
        while i < x.count || j < y.count {
            if j == y.count || (i < x.count && x[i] < y[j]) {
                out.append(x[i]); i += 1
            } else if i == x.count || y[j] < x[i] {
                out.append(y[j]); j += 1
            } else {
                out.append(x[i]); i += 1; j += 1
            }
        }
        return out
    }

    private static func rangeText(_ config: DataConfig) -> String {
        config.start.isEmpty && config.end.isEmpty ? "" : " between '\(config.start)' and '\(config.end)'"
    }
}
