import Foundation

/// One asset's validated bars from a file, ascending in time, with the file line of every bar.
struct AssetSeries: Sendable, Equatable {
    var ticker: String
    var timestamps: [Int64] = []
    var open: [Double] = []
    var high: [Double] = []
    var low: [Double] = []
    var close: [Double] = []
    var volume: [Double] = []
    /// 1-based line in the file of each bar.
    var lines: [Int] = []

    mutating func reserve(_ n: Int) {
        timestamps.reserveCapacity(n); open.reserveCapacity(n); high.reserveCapacity(n); low.reserveCapacity(n)
        close.reserveCapacity(n); volume.reserveCapacity(n); lines.reserveCapacity(n)
    }

    mutating func append(_ t: Int64, _ o: Double, _ h: Double, _ l: Double, _ c: Double, _ v: Double, line: Int) {
        timestamps.append(t); open.append(o); high.append(h); low.append(l); close.append(c); volume.append(v)
        lines.append(line)
    }

    /// Keeps only the bars at `keep` (ascending indices).
    mutating func select(_ keep: [Int]) {
        timestamps = keep.map { timestamps[$0] }; open = keep.map { open[$0] }; high = keep.map { high[$0] }
        low = keep.map { low[$0] }; close = keep.map { close[$0] }; volume = keep.map { volume[$0] }
        lines = keep.map { lines[$0] }
    }

    mutating func reverse() {
        timestamps.reverse(); open.reverse(); high.reverse(); low.reverse(); close.reverse(); volume.reverse()
        lines.reverse()
    }
}

/// The strict CSV loader: a byte-level parser over the whole (decompressed) file.
///
/// Columns are found by header name, case-insensitively: date / time / timestamp / datetime (or an EMPTY first
/// header name, the unnamed index column of pandas exports), open, high, low, close, adj close / adj_close, volume,
/// ticker / name / symbol. Other columns (e.g. `OpenInt`) are ignored. Three layouts:
/// - OHLC: open, high, low and close all present (volume optional, 0 when absent); one asset, or a long panel when a
///   ticker column is present (`Date,Ticker,…` or `Ticker,Date,…`, in any row order).
/// - close only: a close column but no open/high/low; open = high = low = close, volume 0.
/// - wide close-only panel: a date column and no price columns; every other column is one ticker's close
///   (`Date,AAPL,AMD,…`, also `Date,SP500` and `Date,vix` as one-asset panels); open = high = low = close, volume 0;
///   an empty, "null" or "." cell means the asset has no bar that day.
///
/// With `adjustPrices` (the default) and an adj close column, open/high/low/close are multiplied by adjClose/close, so
/// splits and dividends do not show up as jumps; the price rules are checked on the prices as written in the file.
///
/// Missing values: an empty field, `null` (Yahoo) or `.` (FRED). A row whose four prices are all missing is skipped and
/// counted as a null row (and as dropped); a row with only some prices missing breaks the price rules.
///
/// Rows are validated as they are parsed (see `RepairPolicy`); each asset's rows are then put in ascending order
/// (a newest-first file is reversed as a whole, never sorted) and must have strictly increasing dates.
///
/// Why not a CSV library: measured on the 580k-row `us_stocks_top100_1990_2012.csv` (29 MB, already gunzipped),
/// release build, 2-core Zen 3, just reading rows and converting the five numbers: yaslab/CSV.swift 2.5.2 took
/// 3.6 s and swiftcsv/SwiftCSV 0.10.0 took 4.0 s, against a 1 s budget for the whole load. This parser does the
/// whole `loadPanel` of the gzipped file (gunzip, parse, validate, align 100 × 5,797 bars) in 0.35 s of CPU time,
/// 0.41 s wall (best of 10, release build, on the shared 2-core machine while others were compiling).
struct CSVLoader {
    /// The file name used in messages (as given in the config).
    let name: String
    let config: DataConfig

    enum Role: Equatable { case date, open, high, low, close, adjClose, volume, ticker, ignored }

    static func role(of rawName: String, index: Int) -> Role {
        switch rawName.lowercased() {
        case "date", "time", "timestamp", "datetime": return .date
        case "": return index == 0 ? .date : .ignored
        case "open": return .open
        case "high": return .high
        case "low": return .low
        case "close": return .close
        case "adj close", "adj_close", "adjclose": return .adjClose
        case "volume": return .volume
        case "ticker", "name", "symbol": return .ticker
        default: return .ignored
        }
    }

    /// Reads and validates `path` (shown as `name` in messages) into one series per asset.
    func load(path: String) throws -> (assets: [AssetSeries], report: LoadReport) {
        let bytes = try FileBytes.read(path)
        return try bytes.withUnsafeBufferPointer { try parse($0) }
    }

    /// Parses a buffer that ends with one 0 byte: the header and the config settle the `Plan`, `readRows` parses and
    /// validates the rows, `group` makes them one series per asset.
    func parse(_ buf: UnsafeBufferPointer<UInt8>) throws -> (assets: [AssetSeries], report: LoadReport) {
        var report = LoadReport()
        report.file = name
        let plan = try self.plan(buf)
        report.closeOnly = plan.layout.closeOnly
        let rows = try readRows(buf, plan, &report)
        return (try group(rows, plan, &report), report)
    }

    /// What the header and the config settle before the first data row.
    struct Plan {
        let layout: Layout
        /// The lines after the header.
        let lines: LineReader
        /// The adj close column when prices are adjusted by it, else -1.
        let adjClose: Int
        /// The assets known before the rows: a wide file's selected ticker columns (`wideColumns`, same order), or
        /// one named after the file for a single series; none for a long panel (its rows name them).
        let tickers: [String]
        let wideColumns: [Int]
        /// `config.tickers`; empty selects every asset.
        let selected: Set<String>
        /// Rows dated in [start, end) are read, others skipped.
        let start: Int64, end: Int64
    }

    /// The header (the first non-blank line), the layout it gives and the assets it names.
    func plan(_ buf: UnsafeBufferPointer<UInt8>) throws -> Plan {
        let base = buf.baseAddress!
        var lines = LineReader(base: base, end: buf.count - 1)
        if buf.count >= 4, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { lines.pos = 3 }  // UTF-8 byte order mark
        var header: (Int, Int)? = nil
        while let line = lines.next() {
            if !Self.isBlank(base, line.0, line.1) { header = line; break }
        }
        guard let (hs, he) = header else { throw MarketDataError("\(name): empty file (no header row)") }
        let headerText = String(decoding: UnsafeBufferPointer(start: base + hs, count: he - hs), as: UTF8.self)
        let layout = try Layout(header: headerText, file: name, line: lines.lineNumber)

        // Assets: wide files have one per non-date column; others one per ticker (or one named after the file).
        var tickers: [String] = []
        var wideColumns: [Int] = []
        if let twice = repeatedValue(config.tickers) {
            throw MarketDataError("\(name): key 'tickers' lists '\(twice)' twice")
        }
        let selected = Set(config.tickers)
        if layout.wide {
            for j in layout.wideColumns where selected.isEmpty || selected.contains(layout.columns[j]) {
                tickers.append(layout.columns[j]); wideColumns.append(j)
            }
        } else if layout.ticker < 0 {
            tickers.append(Self.baseName(name))
        }
        let start: Int64 = try config.start.isEmpty ? Int64.min : Self.configDay(config.start, key: "start")
        let end: Int64 = try config.end.isEmpty ? Int64.max : Self.configDay(config.end, key: "end") + 86_400
        let adjClose = config.adjustPrices && !layout.closeOnly ? layout.adjClose : -1
        return Plan(
            layout: layout, lines: lines, adjClose: adjClose, tickers: tickers, wideColumns: wideColumns,
            selected: selected, start: start, end: end)
    }

    /// The accepted rows (or wide cells) in file order, R of them, and the assets they belong to.
    struct Rows {
        /// (R) asset index into `tickers`, bar time, 1-based line.
        var asset: [Int], time: [Int64], line: [Int]
        /// (R, 5) open, high, low, close, volume.
        var values: [Double]
        /// Every asset with an index: the plan's, then a long panel's selected tickers by first appearance.
        var tickers: [String]
        /// A long panel's tickers, selected or not: ticker → asset index, -1 if not selected.
        var index: [String: Int]
    }

    /// Splits, parses and validates every data row under the repair policy; counts what it skips in `report`.
    ///
    /// The hot loop keeps its state in local variables and plain pointers (no nested functions capturing `var`s, which
    /// would cost a dynamic exclusivity check per access) and appends each row to flat arrays.
    func readRows(_ buf: UnsafeBufferPointer<UInt8>, _ plan: Plan, _ report: inout LoadReport) throws -> Rows {
        let base = buf.baseAddress!
        var lines = plan.lines
        let layout = plan.layout
        let columns = layout.columns, dateColumn = layout.date, tickerColumn = layout.ticker
        let wide = layout.wide, priceColumns = layout.prices, volumeColumn = layout.volume, adjColumn = plan.adjClose
        let priceNames = priceColumns.map { $0 >= 0 ? columns[$0] : "" }
        let wideColumns = plan.wideColumns, selected = plan.selected
        let startTime = plan.start, endTime = plan.end
        var tickers = plan.tickers
        var tickerBytes: [[UInt8]] = []
        var assetIndex: [String: Int] = [:]  // long panels: ticker → asset index, -1 if not selected
        var lastAsset = -1

        var format = config.dateFormat
        let columnCount = columns.count
        let fieldStart = UnsafeMutablePointer<Int>.allocate(capacity: columnCount)
        let fieldEnd = UnsafeMutablePointer<Int>.allocate(capacity: columnCount)
        defer { fieldStart.deallocate(); fieldEnd.deallocate() }
        var prevDateStart = 0, prevDateCount = 0, prevTime: Int64 = 0  // long panels repeat each date on many rows

        let estimate = buf.count / 40
        var rowAsset: [Int] = [], rowTime: [Int64] = [], rowLine: [Int] = [], rowValues: [Double] = []
        rowAsset.reserveCapacity(estimate); rowTime.reserveCapacity(estimate); rowLine.reserveCapacity(estimate)
        rowValues.reserveCapacity(estimate * 5)

        func text(_ j: Int) -> String {
            String(
                decoding: UnsafeBufferPointer(start: base + fieldStart[j], count: fieldEnd[j] - fieldStart[j]),
                as: UTF8.self)
        }
        func number(_ j: Int, line: Int) throws -> Double {
            guard let x = NumberParser.parse(buf, fieldStart[j], fieldEnd[j]) else {
                throw MarketDataError.at(name, row: line, column: columns[j], "'\(text(j))' is not a number")
            }
            return x
        }
        func missing(_ j: Int) -> Bool { Self.isMissing(base, fieldStart[j], fieldEnd[j]) }

        while let (ls, le) = lines.next() {
            let lineNo = lines.lineNumber
            if Self.isBlank(base, ls, le) { continue }
            report.rowsRead += 1
            // Split the line at commas.
            var count = 0, s = ls, i = ls
            while i <= le {
                if i == le || base[i] == 44 {
                    if count < columnCount { fieldStart[count] = s; fieldEnd[count] = i }
                    count += 1; s = i + 1
                }
                i += 1
            }
            guard count == columnCount else {
                throw MarketDataError.at(name, row: lineNo, "\(count) fields but the header has \(columnCount) columns")
            }

            // Date.
            var time: Int64
            let ds = fieldStart[dateColumn], dn = fieldEnd[dateColumn] - ds
            if dn == prevDateCount, dn > 0, memcmp(base + ds, base + prevDateStart, dn) == 0 {
                time = prevTime
            } else {
                let f = UnsafeBufferPointer(start: base + ds, count: dn)
                if format == .auto {
                    guard let found = DateParser.detect(f) else {
                        throw MarketDataError.at(
                            name, row: lineNo, column: columns[dateColumn],
                            "'\(text(dateColumn))' is not a date in a supported layout (\(Self.layouts))")
                    }
                    format = found
                }
                guard let t = DateParser.parse(f, as: format) else {
                    if let other = DateParser.detect(f), other != format, DateParser.parse(f, as: other) != nil {
                        let expected = config.dateFormat == .auto ? "earlier rows are" : "the config's dateFormat is"
                        throw MarketDataError.at(
                            name, row: lineNo, column: columns[dateColumn],
                            "mixed date formats: "
                                + "'\(text(dateColumn))' is \(other.rawValue) but \(expected) \(format.rawValue)"
                        )
                    }
                    throw MarketDataError.at(
                        name, row: lineNo, column: columns[dateColumn],
                        "'\(text(dateColumn))' is not a valid \(format.rawValue) date")
                }
                time = t
                (prevDateStart, prevDateCount, prevTime) = (ds, dn, t)
            }
            let inRange = time >= startTime && time < endTime

            if wide {
                if !inRange { report.rowsOutsideSelection += 1; continue }
                if wideColumns.allSatisfy(missing) { report.nullRows += 1; report.rowsDropped += 1; continue }
                for (k, j) in wideColumns.enumerated() {
                    if missing(j) { continue }
                    let x = try number(j, line: lineNo)
                    if !(x.isFinite && x > 0) {
                        try violation(row: lineNo, column: columns[j], "\(x) is not a finite positive price", &report)
                        continue
                    }
                    rowAsset.append(k); rowTime.append(time); rowLine.append(lineNo)
                    rowValues.append(x); rowValues.append(x); rowValues.append(x); rowValues.append(x);
                    rowValues.append(0)
                }
                continue
            }

            // Asset of this row.
            var a = 0
            if tickerColumn >= 0 {
                let ts = fieldStart[tickerColumn], tn = fieldEnd[tickerColumn] - ts
                if tn == 0 {
                    throw MarketDataError.at(name, row: lineNo, column: columns[tickerColumn], "empty ticker")
                }
                // Rows repeat the previous ticker (Ticker,Date files) or cycle through the tickers (Date,Ticker files).
                let next = lastAsset + 1 < tickers.count ? lastAsset + 1 : 0
                if lastAsset >= 0, tickerBytes[lastAsset].count == tn,
                    memcmp(tickerBytes[lastAsset], base + ts, tn) == 0
                {
                    a = lastAsset
                } else if next < tickers.count, tickerBytes[next].count == tn,
                    memcmp(tickerBytes[next], base + ts, tn) == 0
                {
                    a = next
                } else {
                    let ticker = text(tickerColumn)
                    if let known = assetIndex[ticker] {
                        a = known
                    } else if !selected.isEmpty && !selected.contains(ticker) {
                        a = -1
                    } else {
                        tickers.append(ticker); a = tickers.count - 1
                    }
                    assetIndex[ticker] = a
                }
                if a < 0 { report.rowsOutsideSelection += 1; continue }
                while tickerBytes.count < tickers.count { tickerBytes.append(Array(tickers[tickerBytes.count].utf8)) }
                lastAsset = a
            }
            if !inRange { report.rowsOutsideSelection += 1; continue }

            // Prices: all missing → a Yahoo-style null row, skipped and counted as dropped.
            if missing(priceColumns[0]) && missing(priceColumns[1]) && missing(priceColumns[2])
                && missing(priceColumns[3])
            {
                report.nullRows += 1; report.rowsDropped += 1; continue
            }
            var bad: (column: String, message: String)? = nil
            var prices: (Double, Double, Double, Double) = (0, 0, 0, 0)
            for p in 0..<4 {
                let j = priceColumns[p]
                var x = Double.nan
                if missing(j) {
                    bad = bad ?? (columns[j], "missing value '\(text(j))'")
                } else {
                    x = try number(j, line: lineNo)
                    if !(x.isFinite && x > 0) { bad = bad ?? (columns[j], "\(x) is not a finite positive price") }
                }
                switch p {
                case 0: prices.0 = x;
                case 1: prices.1 = x;
                case 2: prices.2 = x;
                default: prices.3 = x
                }
            }
            var v = 0.0
            if volumeColumn >= 0 {
                if missing(volumeColumn) {
                    bad = bad ?? (columns[volumeColumn], "missing value '\(text(volumeColumn))'")
                } else {
                    v = try number(volumeColumn, line: lineNo)
                    if !(v.isFinite && v >= 0) {
                        bad = bad ?? (columns[volumeColumn], "\(v) is not a finite volume >= 0")
                    }
                }
            }
            if let bad {
                try violation(row: lineNo, column: bad.column, bad.message, &report)
                continue
            }
            var (o, h, l, c) = prices
            if h < l || h < max(o, c) || l > min(o, c) {
                let broken =
                    h < l
                    ? (priceNames[2], "\(l) is above high \(h)")
                    : h < max(o, c)
                        ? (priceNames[1], "\(h) is below max(open, close) \(max(o, c))")
                        : (priceNames[2], "\(l) is above min(open, close) \(min(o, c))")
                switch config.repair {
                case .error: throw MarketDataError.at(name, row: lineNo, column: broken.0, broken.1)
                case .drop: report.rowsDropped += 1; continue
                case .clamp: h = max(h, o, c); l = min(l, o, c); report.rowsRepaired += 1
                }
            }
            if adjColumn >= 0 {
                // Split/dividend adjustment: scale the prices so that the close becomes the adjusted close.
                let adj = missing(adjColumn) ? Double.nan : try number(adjColumn, line: lineNo)
                if !(adj.isFinite && adj > 0) {
                    try violation(
                        row: lineNo, column: columns[adjColumn],
                        (missing(adjColumn)
                            ? "missing value '\(text(adjColumn))'" : "\(adj) is not a finite positive price")
                            + " (adjustPrices is on)",
                        &report)
                    continue
                }
                let factor = adj / c
                (o, h, l, c) = (o * factor, h * factor, l * factor, adj)
                // A tiny close with a large adjusted close overflows (or a huge one underflows) the scaled prices.
                if ![o, h, l].allSatisfy({ $0.isFinite && $0 > 0 }) {
                    try violation(
                        row: lineNo, column: columns[adjColumn],
                        "\(adj) over close \(prices.3) scales the prices out of range (adjustPrices is on)", &report)
                    continue
                }
            }
            rowAsset.append(a); rowTime.append(time); rowLine.append(lineNo)
            rowValues.append(o); rowValues.append(h); rowValues.append(l); rowValues.append(c); rowValues.append(v)
        }
        if report.rowsRead == 0 { throw MarketDataError("\(name): header only, no data rows") }
        report.dateFormat = format
        return Rows(
            asset: rowAsset, time: rowTime, line: rowLine, values: rowValues, tickers: tickers,
            index: assetIndex)
    }

    /// One series per asset, file order kept inside each; the selected tickers (which must all be in the file) in the
    /// config's order; each put in ascending date order (see `order`).
    func group(_ rows: Rows, _ plan: Plan, _ report: inout LoadReport) throws -> [AssetSeries] {
        var assets = rows.tickers.map { AssetSeries(ticker: $0) }
        var counts = [Int](repeating: 0, count: rows.tickers.count)
        for a in rows.asset { counts[a] += 1 }
        for k in assets.indices { assets[k].reserve(counts[k]) }
        let values = rows.values
        for r in rows.asset.indices {
            let v = r * 5
            assets[rows.asset[r]].append(
                rows.time[r], values[v], values[v + 1], values[v + 2], values[v + 3],
                values[v + 4], line: rows.line[r])
        }

        let layout = plan.layout, columns = layout.columns
        if !plan.selected.isEmpty {
            var ordered: [AssetSeries] = []
            for t in config.tickers {
                guard let asset = assets.first(where: { $0.ticker == t }) else {
                    let known =
                        layout.wide
                        ? layout.wideColumns.map { columns[$0] }
                        : (layout.ticker >= 0 ? rows.index.keys.sorted() : rows.tickers)
                    throw MarketDataError(
                        "\(name): ticker '\(t)' is not in the file (it has: \(known.joined(separator: ", ")))")
                }
                ordered.append(asset)
            }
            assets = ordered
        }
        for k in assets.indices { try order(&assets[k], dateColumn: columns[layout.date], &report) }
        return assets
    }

    /// What the header says: which column holds what, and which of the three layouts the file has.
    struct Layout {
        /// Header names, trimmed of blanks and quotes.
        let columns: [String]
        /// Column indices (-1 = absent).
        let date: Int, ticker: Int, volume: Int, adjClose: Int
        /// Columns of open, high, low, close (the close column four times in close-only files; unused in wide files).
        let prices: [Int]
        /// Open, high and low are absent: open = high = low = close, volume 0.
        let closeOnly: Bool
        /// Wide close-only panel: no price columns, every other column is one ticker's close.
        let wide: Bool
        /// The ticker columns of a wide file.
        let wideColumns: [Int]

        init(header: String, file: String, line: Int) throws {
            columns = header.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
            }
            let roles = columns.enumerated().map { CSVLoader.role(of: $0.element, index: $0.offset) }
            var columnOf: [Role: Int] = [:]
            for (j, role) in roles.enumerated() where role != .ignored {
                if let other = columnOf[role] {
                    throw MarketDataError.at(
                        file, row: line, column: columns[j],
                        "same meaning as column '\(columns[other])' (each of date, open, high, low, close, adj close, "
                            + "volume, ticker may appear once)"
                    )
                }
                columnOf[role] = j
            }
            guard let date = columnOf[.date] else {
                throw MarketDataError.at(
                    file, row: line,
                    "missing column 'date' (date, time, timestamp, "
                        + "datetime or an unnamed first column) in header '\(header)'"
                )
            }
            self.date = date
            ticker = columnOf[.ticker] ?? -1
            volume = columnOf[.volume] ?? -1
            adjClose = columnOf[.adjClose] ?? -1
            closeOnly = columnOf[.open] == nil && columnOf[.high] == nil && columnOf[.low] == nil
            wide = closeOnly && columnOf[.close] == nil
            if !closeOnly {
                for (role, label) in [(Role.open, "open"), (.high, "high"), (.low, "low"), (.close, "close")]
                where columnOf[role] == nil {
                    throw MarketDataError.at(file, row: line, "missing column '\(label)' in header '\(header)'")
                }
            }
            let close = columnOf[.close] ?? -1
            prices =
                closeOnly
                ? [close, close, close, close] : [columnOf[.open]!, columnOf[.high]!, columnOf[.low]!, close]
            let cols = columns
            wideColumns = wide ? cols.indices.filter { roles[$0] == .ignored && !cols[$0].isEmpty } : []
            if wide && (ticker >= 0 || wideColumns.isEmpty) {
                throw MarketDataError.at(file, row: line, "missing column 'close' in header '\(header)'")
            }
        }
    }

    /// Lines of a buffer as [start, end) byte offsets without the line break (`\n` or `\r\n`).
    struct LineReader {
        let base: UnsafePointer<UInt8>
        let end: Int
        var pos = 0
        /// 1-based number of the line last returned.
        var lineNumber = 0

        init(base: UnsafePointer<UInt8>, end: Int) { self.base = base; self.end = end }

        mutating func next() -> (Int, Int)? {
            guard pos < end else { return nil }
            let s = pos
            if let nl = memchr(base + s, 10, end - s) {
                pos = UnsafePointer<UInt8>(nl.assumingMemoryBound(to: UInt8.self)) - base
            } else {
                pos = end
            }
            var e = pos
            if e > s, base[e - 1] == 13 { e -= 1 }
            pos += 1
            lineNumber += 1
            return (s, e)
        }
    }

    static func isBlank(_ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        var i = s
        while i < e { if base[i] != 32, base[i] != 9 { return false }; i += 1 }
        return true
    }

    /// An empty field, `null` (any case) or `.` (FRED's missing value, as in `vix_close_2014_2019_arch.csv`).
    static func isMissing(_ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        switch e - s {
        case 0: return true
        case 1: return base[s] == 46
        case 4:
            return (base[s] | 0x20) == 110 && (base[s + 1] | 0x20) == 117 && (base[s + 2] | 0x20) == 108
                && (base[s + 3] | 0x20) == 108
        default: return false
        }
    }

    /// A broken row under the repair policy: an error, or one more dropped row.
    private func violation(row: Int, column: String, _ message: String, _ report: inout LoadReport) throws {
        if config.repair == .error { throw MarketDataError.at(name, row: row, column: column, message) }
        report.rowsDropped += 1
    }

    /// Puts one asset's bars in ascending order (reversing a newest-first file: one whose consecutive rows go back in
    /// time more often than forward, so that one stray row at either end does not turn the file around) and enforces
    /// strictly increasing dates.
    private func order(_ a: inout AssetSeries, dateColumn: String, _ report: inout LoadReport) throws {
        var forward = 0, back = 0
        for k in a.timestamps.indices.dropFirst() {
            if a.timestamps[k] > a.timestamps[k - 1] {
                forward += 1
            } else if a.timestamps[k] < a.timestamps[k - 1] {
                back += 1
            }
        }
        if back > forward { a.reverse() }
        var keep: [Int] = []
        keep.reserveCapacity(a.timestamps.count)
        for k in a.timestamps.indices {
            if let prev = keep.last, a.timestamps[k] <= a.timestamps[prev] {
                let what =
                    a.timestamps[k] == a.timestamps[prev]
                    ? "duplicate date \(DateParser.format(a.timestamps[k])) (also on row \(a.lines[prev]))"
                    : "date \(DateParser.format(a.timestamps[k])) is out of order after "
                        + "\(DateParser.format(a.timestamps[prev])) (row \(a.lines[prev]))"
                let who = a.ticker == Self.baseName(name) ? "" : " of '\(a.ticker)'"
                try violation(row: a.lines[k], column: dateColumn, what + who, &report)
                continue
            }
            keep.append(k)
        }
        if keep.count < a.timestamps.count { a.select(keep) }
    }

    static let layouts = DateFormat.allCases.filter { $0 != .auto }.map(\.rawValue).joined(separator: ", ")

    /// `sp500_1999_2018_arch` for `data/sp500_1999_2018_arch.csv.gz`.
    static func baseName(_ path: String) -> String {
        var base = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".gz", ".csv", ".txt"] where base.lowercased().hasSuffix(suffix) {
            base.removeLast(suffix.count)
        }
        return base
    }

    static func configDay(_ value: String, key: String) throws -> Int64 {
        guard let t = DateParser.isoDay(value) else {
            throw MarketDataError("DataConfig: \(key) '\(value)' is not an ISO date YYYY-MM-DD")
        }
        return t
    }
}

/// Decimal number parsing over raw bytes.
enum NumberParser {
    private static let powers: [Double] = (0...22).map { pow(10.0, Double($0)) }
    private static let nonFiniteWords: Set<String> = [
        "nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
    ]

    /// The number in bytes [s, e) of `buf` (which must end with a 0 byte), or `nil` if the field is not exactly one
    /// number.
    ///
    /// Fast path (Clinger): at most 15 significant digits and a decimal exponent within ±22 are converted exactly
    /// with one multiplication or division; anything else (long mantissas, `1e300`, `inf`, `nan`) goes to `strtod`.
    static func parse(_ buf: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Double? {
        guard e > s else { return nil }
        var i = s
        var negative = false
        if buf[i] == 45 || buf[i] == 43 { negative = buf[i] == 45; i += 1 }
        var mantissa: UInt64 = 0, digits = 0, scale = 0, any = false
        while i < e, buf[i] >= 48, buf[i] <= 57 {
            if digits > 0 || buf[i] != 48 { digits += 1 }
            mantissa = mantissa &* 10 &+ UInt64(buf[i] - 48); i += 1; any = true
        }
        if i < e, buf[i] == 46 {
            i += 1
            while i < e, buf[i] >= 48, buf[i] <= 57 {
                if digits > 0 || buf[i] != 48 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(buf[i] - 48); scale -= 1; i += 1; any = true
            }
        }
        if i < e, buf[i] == 101 || buf[i] == 69, any {
            i += 1
            var expNegative = false
            if i < e, buf[i] == 45 || buf[i] == 43 { expNegative = buf[i] == 45; i += 1 }
            var exponent = 0, expDigits = 0
            while i < e, buf[i] >= 48, buf[i] <= 57, exponent < 10_000 {
                exponent = exponent * 10 + Int(buf[i] - 48); i += 1; expDigits += 1
            }
            if expDigits == 0 { return nil }
            scale += expNegative ? -exponent : exponent
        }
        if any, i == e, digits <= 15, scale >= -22, scale <= 22 {
            let m = Double(mantissa)
            let x = scale >= 0 ? m * powers[scale] : m / powers[-scale]
            return negative ? -x : x
        }
        // Slow path: decimal text (long mantissas, big exponents) and the words inf / nan (which validation then
        // rejects) go to the C library; anything else, such as strtod's hex floats, is not a number here.
        var i2 = s
        while i2 < e,
            (buf[i2] >= 48 && buf[i2] <= 57) || buf[i2] == 43 || buf[i2] == 45 || buf[i2] == 46 || buf[i2] | 0x20 == 101
        { i2 += 1 }
        if i2 < e,
            !nonFiniteWords.contains(
                String(decoding: UnsafeBufferPointer(rebasing: buf[s..<e]), as: UTF8.self).lowercased())
        {
            return nil
        }
        var endPointer: UnsafeMutablePointer<CChar>? = nil
        let start = UnsafeMutableRawPointer(mutating: buf.baseAddress! + s).assumingMemoryBound(to: CChar.self)
        let x = strtod(start, &endPointer)
        guard let endPointer, endPointer == start + (e - s), buf[s] > 32 else { return nil }
        return x
    }
}
