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
/// Missing values: an empty field, `null` (Yahoo) or `.` (FRED). A row whose four prices are all missing is skipped and
/// counted as a null row (and as dropped); a row with only some prices missing breaks the price rules.
///
/// Rows are validated as they are parsed (see `RepairPolicy`); each asset's rows are then put in ascending order
/// (a newest-first file is reversed as a whole, never sorted) and must have strictly increasing dates.
///
/// Why not a CSV library: measured on the 580k-row `us_stocks_top100_1990_2012.csv` (29 MB, already gunzipped),
/// release build, 2-core Zen 3, just reading rows and converting the five numbers: yaslab/CSV.swift 2.5.2 took
/// 3.6 s and swiftcsv/SwiftCSV 0.10.0 took 4.0 s, against a 1 s budget for the whole load. This parser does the
/// whole load of the gzipped file, validation included, in about 0.3 s (see the MarketData report in the README).
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

    /// Parses a buffer that ends with one 0 byte.
    func parse(_ buf: UnsafeBufferPointer<UInt8>) throws -> (assets: [AssetSeries], report: LoadReport) {
        var report = LoadReport()
        report.file = name
        let end = buf.count - 1  // the terminating 0
        var pos = 0
        if end >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { pos = 3 }  // UTF-8 byte order mark

        /// The next line as [start, end) without its line break, advancing `pos`.
        func nextLine() -> (Int, Int) {
            let s = pos
            while pos < end, buf[pos] != 10 { pos += 1 }
            var e = pos
            if e > s, buf[e - 1] == 13 { e -= 1 }
            pos += 1
            return (s, e)
        }
        func isBlank(_ s: Int, _ e: Int) -> Bool {
            var i = s
            while i < e { if buf[i] != 32, buf[i] != 9 { return false }; i += 1 }
            return true
        }

        // Header: the first non-blank line.
        var lineNo = 0
        var header: (Int, Int)? = nil
        while pos < end {
            let line = nextLine(); lineNo += 1
            if !isBlank(line.0, line.1) { header = line; break }
        }
        guard let (hs, he) = header else { throw MarketDataError("\(name): empty file (no header row)") }
        let headerLine = lineNo
        let headerText = String(decoding: UnsafeBufferPointer(rebasing: buf[hs..<he]), as: UTF8.self)
        let columns = headerText.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
        }
        let roles = columns.enumerated().map { Self.role(of: $0.element, index: $0.offset) }
        var columnOf: [Role: Int] = [:]
        for (j, role) in roles.enumerated() where role != .ignored {
            if let other = columnOf[role] {
                throw MarketDataError.at(name, row: headerLine, column: columns[j],
                                         "same meaning as column '\(columns[other])' (each of date, open, high, low, close, volume, ticker may appear once)")
            }
            columnOf[role] = j
        }
        guard let dateColumn = columnOf[.date] else {
            throw MarketDataError.at(name, row: headerLine, "missing column 'date' (date, time, timestamp, datetime or an unnamed first column) in header '\(headerText)'")
        }
        let tickerColumn = columnOf[.ticker]
        let hasOHL = columnOf[.open] != nil || columnOf[.high] != nil || columnOf[.low] != nil
        let wide = !hasOHL && columnOf[.close] == nil
        if hasOHL {
            for (role, label) in [(Role.open, "open"), (.high, "high"), (.low, "low"), (.close, "close")] where columnOf[role] == nil {
                throw MarketDataError.at(name, row: headerLine, "missing column '\(label)' in header '\(headerText)'")
            }
        }
        if wide, tickerColumn != nil {
            throw MarketDataError.at(name, row: headerLine, "missing column 'close' in header '\(headerText)' (a ticker column needs price columns)")
        }
        report.closeOnly = !hasOHL
        // Price columns: open, high, low, close (the same column four times for close-only files).
        let closeColumn = columnOf[.close] ?? -1
        let priceColumns = hasOHL ? [columnOf[.open]!, columnOf[.high]!, columnOf[.low]!, closeColumn]
                                  : [closeColumn, closeColumn, closeColumn, closeColumn]
        let volumeColumn = columnOf[.volume] ?? -1

        // Assets: wide files have one per non-date column; others one per ticker (or one named after the file).
        var assets: [AssetSeries] = []
        var wideColumns: [Int] = []  // column of asset k in a wide file
        let selected = Set(config.tickers)
        if wide {
            for j in columns.indices where j != dateColumn && roles[j] == .ignored && !columns[j].isEmpty {
                if selected.isEmpty || selected.contains(columns[j]) {
                    assets.append(AssetSeries(ticker: columns[j])); wideColumns.append(j)
                }
            }
            if assets.isEmpty && selected.isEmpty {
                throw MarketDataError.at(name, row: headerLine, "no price columns in header '\(headerText)'")
            }
        } else if tickerColumn == nil {
            let single = hasOHL ? Self.baseName(name) : columns[closeColumn]
            assets.append(AssetSeries(ticker: single))
        }
        var assetIndex: [String: Int] = [:]  // long panels: ticker → asset index, -1 if not selected
        var lastAsset = -1

        let startTime: Int64 = try config.start.isEmpty ? Int64.min : Self.configDay(config.start, key: "start")
        let endTime: Int64 = try config.end.isEmpty ? Int64.max : Self.configDay(config.end, key: "end") + 86_400

        var format = config.dateFormat
        report.dateFormat = format
        var fieldStart = [Int](repeating: 0, count: columns.count)
        var fieldEnd = [Int](repeating: 0, count: columns.count)
        var prevDate = (start: 0, end: 0, time: Int64(0))  // cache: long panels repeat each date on many rows
        var prices = [Double](repeating: 0, count: 4)
        let priceNames = priceColumns.map { $0 >= 0 ? columns[$0] : "" }

        func field(_ j: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: buf[fieldStart[j]..<fieldEnd[j]])
        }
        func text(_ j: Int) -> String { String(decoding: field(j), as: UTF8.self) }
        func isNull(_ j: Int) -> Bool {
            let n = fieldEnd[j] - fieldStart[j], s = fieldStart[j]
            if n == 0 { return true }
            if n == 1 { return buf[s] == 46 }  // "." marks a missing value in FRED-style files (vix_close_2014_2019_arch)
            return n == 4 && (buf[s] | 0x20) == 110 && (buf[s + 1] | 0x20) == 117 && (buf[s + 2] | 0x20) == 108 && (buf[s + 3] | 0x20) == 108
        }
        func number(_ j: Int) throws -> Double {
            guard let x = NumberParser.parse(buf, fieldStart[j], fieldEnd[j]) else {
                throw MarketDataError.at(name, row: lineNo, column: columns[j], "'\(text(j))' is not a number")
            }
            return x
        }

        while pos < end {
            let (ls, le) = nextLine(); lineNo += 1
            if isBlank(ls, le) { continue }
            report.rowsRead += 1
            // Split the line at commas.
            var count = 0, s = ls, i = ls
            while i <= le {
                if i == le || buf[i] == 44 {
                    if count < columns.count { fieldStart[count] = s; fieldEnd[count] = i }
                    count += 1; s = i + 1
                }
                i += 1
            }
            guard count == columns.count else {
                throw MarketDataError.at(name, row: lineNo, "\(count) fields but the header has \(columns.count) columns")
            }

            // Date.
            var time: Int64
            let ds = fieldStart[dateColumn], dn = fieldEnd[dateColumn] - ds
            if dn == prevDate.end - prevDate.start, dn > 0, memcmp(buf.baseAddress! + ds, buf.baseAddress! + prevDate.start, dn) == 0 {
                time = prevDate.time
            } else {
                let f = field(dateColumn)
                if format == .auto {
                    guard let found = DateParser.detect(f) else {
                        throw MarketDataError.at(name, row: lineNo, column: columns[dateColumn],
                                                 "'\(text(dateColumn))' is not a date in a supported layout (\(Self.layouts))")
                    }
                    format = found; report.dateFormat = found
                }
                guard let t = DateParser.parse(f, as: format) else {
                    if let other = DateParser.detect(f), other != format, DateParser.parse(f, as: other) != nil {
                        throw MarketDataError.at(name, row: lineNo, column: columns[dateColumn],
                                                 "mixed date formats: '\(text(dateColumn))' is \(other.rawValue) but earlier rows are \(format.rawValue)")
                    }
                    throw MarketDataError.at(name, row: lineNo, column: columns[dateColumn],
                                             "'\(text(dateColumn))' is not a valid \(format.rawValue) date")
                }
                time = t
                prevDate = (ds, ds + dn, t)
            }
            let inRange = time >= startTime && time < endTime

            if wide {
                if !wideColumns.isEmpty, wideColumns.allSatisfy(isNull) {
                    report.nullRows += 1; report.rowsDropped += 1; continue
                }
                for (k, j) in wideColumns.enumerated() {
                    if isNull(j) { continue }
                    let x = try number(j)
                    if !inRange { report.rowsOutsideSelection += 1; continue }
                    if !(x.isFinite && x > 0) {
                        try violation(row: lineNo, column: columns[j], "\(x) is not a finite positive price", &report)
                        continue
                    }
                    assets[k].append(time, x, x, x, x, 0, line: lineNo)
                }
                continue
            }

            // Asset of this row.
            var a = 0
            if let tc = tickerColumn {
                let n = fieldEnd[tc] - fieldStart[tc]
                if n == 0 { throw MarketDataError.at(name, row: lineNo, column: columns[tc], "empty ticker") }
                // Rows usually cycle through the tickers in a fixed order: try the one after the previous row's first.
                let next = lastAsset + 1 < assets.count ? lastAsset + 1 : 0
                if lastAsset >= 0, assets[lastAsset].ticker.utf8.elementsEqual(field(tc)) {
                    a = lastAsset
                } else if next < assets.count, assets[next].ticker.utf8.elementsEqual(field(tc)) {
                    a = next
                } else {
                    let ticker = text(tc)
                    if let known = assetIndex[ticker] {
                        a = known
                    } else if !selected.isEmpty && !selected.contains(ticker) {
                        assetIndex[ticker] = -1; a = -1
                    } else {
                        assets.append(AssetSeries(ticker: ticker)); a = assets.count - 1; assetIndex[ticker] = a
                    }
                }
                if a >= 0 { lastAsset = a }
                if a < 0 { report.rowsOutsideSelection += 1; continue }
            }
            if !inRange { report.rowsOutsideSelection += 1; continue }

            // Prices: all null → a Yahoo-style null row, skipped and counted as dropped.
            var nulls = 0
            for p in 0..<4 where isNull(priceColumns[p]) { nulls += 1 }
            if nulls == 4 || (!hasOHL && nulls > 0) {
                report.nullRows += 1; report.rowsDropped += 1; continue
            }
            var bad: (column: String, message: String)? = nil
            for p in 0..<4 {
                let j = priceColumns[p]
                if isNull(j) { bad = bad ?? (columns[j], "missing value '\(text(j))'"); prices[p] = .nan; continue }
                let x = try number(j)
                prices[p] = x
                if !(x.isFinite && x > 0) { bad = bad ?? (columns[j], "\(x) is not a finite positive price") }
            }
            var v = 0.0
            if volumeColumn >= 0 {
                if isNull(volumeColumn) {
                    bad = bad ?? (columns[volumeColumn], "missing value '\(text(volumeColumn))'")
                } else {
                    v = try number(volumeColumn)
                    if !(v.isFinite && v >= 0) { bad = bad ?? (columns[volumeColumn], "\(v) is not a finite volume >= 0") }
                }
            }
            if let bad {
                try violation(row: lineNo, column: bad.column, bad.message, &report)
                continue
            }
            var (o, h, l, c) = (prices[0], prices[1], prices[2], prices[3])
            var broken: (column: String, message: String)? = nil
            if h < l {
                broken = (priceNames[2], "\(l) is above high \(h)")
            } else if h < max(o, c) {
                broken = (priceNames[1], "\(h) is below max(open, close) \(max(o, c))")
            } else if l > min(o, c) {
                broken = (priceNames[2], "\(l) is above min(open, close) \(min(o, c))")
            }
            if let broken {
                switch config.repair {
                case .error: throw MarketDataError.at(name, row: lineNo, column: broken.column, broken.message)
                case .drop: report.rowsDropped += 1; continue
                case .clamp: h = max(h, o, c); l = min(l, o, c); report.rowsRepaired += 1
                }
            }
            assets[a].append(time, o, h, l, c, v, line: lineNo)
        }
        if report.rowsRead == 0 { throw MarketDataError("\(name): header only, no data rows") }

        // Selected tickers must exist; keep the config's order.
        if !selected.isEmpty {
            var ordered: [AssetSeries] = []
            for t in config.tickers {
                guard let asset = assets.first(where: { $0.ticker == t }) else {
                    let known = wide ? wideColumnsNames(columns, dateColumn) : (assetIndex.isEmpty ? assets.map(\.ticker) : Array(assetIndex.keys).sorted())
                    throw MarketDataError("\(name): ticker '\(t)' is not in the file (it has: \(known.joined(separator: ", ")))")
                }
                ordered.append(asset)
            }
            assets = ordered
        }
        for k in assets.indices { try order(&assets[k], dateColumn: columns[dateColumn], &report) }
        return (assets, report)
    }

    /// A broken row under the repair policy: an error, or one more dropped row.
    private func violation(row: Int, column: String, _ message: String, _ report: inout LoadReport) throws {
        if config.repair == .error { throw MarketDataError.at(name, row: row, column: column, message) }
        report.rowsDropped += 1
    }

    /// Puts one asset's bars in ascending order (reversing a newest-first file) and enforces strictly increasing dates.
    private func order(_ a: inout AssetSeries, dateColumn: String, _ report: inout LoadReport) throws {
        if let first = a.timestamps.first, let last = a.timestamps.last, first > last { a.reverse() }
        var keep: [Int] = []
        keep.reserveCapacity(a.timestamps.count)
        for k in a.timestamps.indices {
            if let prev = keep.last, a.timestamps[k] <= a.timestamps[prev] {
                let what = a.timestamps[k] == a.timestamps[prev]
                    ? "duplicate date \(DateParser.format(a.timestamps[k])) (also on row \(a.lines[prev]))"
                    : "date \(DateParser.format(a.timestamps[k])) is out of order after \(DateParser.format(a.timestamps[prev])) (row \(a.lines[prev]))"
                let who = a.ticker == Self.baseName(name) ? "" : " of '\(a.ticker)'"
                try violation(row: a.lines[k], column: dateColumn, what + who, &report)
                continue
            }
            keep.append(k)
        }
        if keep.count < a.timestamps.count { a.select(keep) }
    }

    private func wideColumnsNames(_ columns: [String], _ dateColumn: Int) -> [String] {
        columns.indices.filter { $0 != dateColumn }.map { columns[$0] }
    }

    static let layouts = DateFormat.allCases.filter { $0 != .auto }.map(\.rawValue).joined(separator: ", ")

    /// `sp500_1999_2018_arch` for `data/sp500_1999_2018_arch.csv.gz`.
    static func baseName(_ path: String) -> String {
        var base = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".gz", ".csv", ".txt"] where base.lowercased().hasSuffix(suffix) { base.removeLast(suffix.count) }
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

    /// The number in bytes [s, e) of `buf` (which must end with a 0 byte), or `nil` if the field is not exactly one number.
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
            while i < e, buf[i] >= 48, buf[i] <= 57, exponent < 10_000 { exponent = exponent * 10 + Int(buf[i] - 48); i += 1; expDigits += 1 }
            if expDigits == 0 { return nil }
            scale += expNegative ? -exponent : exponent
        }
        if any, i == e, digits <= 15, scale >= -22, scale <= 22 {
            let m = Double(mantissa)
            let x = scale >= 0 ? m * powers[scale] : m / powers[-scale]
            return negative ? -x : x
        }
        // Slow path: let the C library decide (it also reads inf / nan, which validation then rejects).
        var endPointer: UnsafeMutablePointer<CChar>? = nil
        let start = UnsafeMutableRawPointer(mutating: buf.baseAddress! + s).assumingMemoryBound(to: CChar.self)
        let x = strtod(start, &endPointer)
        guard let endPointer, endPointer == start + (e - s), buf[s] > 32 else { return nil }
        return x
    }
}
