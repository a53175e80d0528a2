import Foundation

/// What to do with a side series whose first value comes after the first bar.
public enum LateStartPolicy: String, Codable, Sendable, CaseIterable {
    /// Stop with an error naming the series and its first date.
    case error
    /// Its columns hold 0 until its features are defined, and it does not move the warm-up.
    case zeros
}

/// One entry of `data.side`: a market-wide series read beside the traded assets (the VIX, an index, a rate). It is
/// not traded; its features enter every bar's observation after the assets' columns.
public struct SideSeriesConfig: Codable, Sendable, Equatable {
    /// CSV or `.csv.gz` file with a date column, relative to the base directory like `data.file`.
    public var file = ""
    /// The header name of the values' column (case-insensitive), e.g. `CLOSE` or `SP500`.
    public var column = ""
    /// The series' name in column names (`VIX.level`) and as a label target (`""` = the column's name).
    public var name = ""
    /// Its features, from those that need only values (`SideSeries.featureNames`); default `level` and `logReturn`.
    public var features = FeatureConfig([.level, .logReturn])
    /// Longest run of bars in a row that see no new value of the series (its last value is carried on); a longer run
    /// is an error. Raise it for a series coarser than the bars (a monthly rate on daily bars: 23).
    public var maxGapFill = 5
    /// A series that starts after the first bar: `error` or `zeros`.
    public var lateStart = LateStartPolicy.error

    public init() {}

    public init(
        file: String, column: String, name: String = "",
        features: FeatureConfig = FeatureConfig([.level, .logReturn]), maxGapFill: Int = 5,
        lateStart: LateStartPolicy = .error
    ) {
        self.file = file; self.column = column; self.name = name; self.features = features
        self.maxGapFill = maxGapFill; self.lateStart = lateStart
    }

    /// Strict: an unknown key is an error naming the known ones; missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let p = try StrictMapping(
            decoder, what: "side series",
            allowed: ["file", "column", "name", "features", "maxGapFill", "lateStart"])
        let d = SideSeriesConfig()
        self.init(
            file: try p("file", d.file), column: try p("column", d.column), name: try p("name", d.name),
            features: try p("features", d.features), maxGapFill: try p("maxGapFill", d.maxGapFill),
            lateStart: try p.choice("lateStart", d.lateStart))
    }

    /// `name`, or the column's name when it is unset.
    public var seriesName: String { name.isEmpty ? column : name }
}

/// A side series as read: its own dates and values, ascending.
///
/// Alignment is an as-of join on time: bar t sees the last value known at t's close. A value dated s is known at the
/// end of its own bar, s + its period, and bar t closes at its time + the bars' period, where a calendar's period is
/// its most common spacing between consecutive times (a day for daily files, an hour for hourly ones). So a daily
/// value is seen by the daily bar of the same date, and by the last hourly bar of that day, never earlier.
public struct SideSeries: Sendable, Equatable {
    /// The name columns and label targets use.
    public var name: String
    /// (S) value times, seconds since 1970 UTC, strictly increasing.
    public var timestamps: [Int64]
    /// (S) the values.
    public var values: [Double]

    public init(name: String, timestamps: [Int64], values: [Double]) {
        self.name = name; self.timestamps = timestamps; self.values = values
    }

    /// The features a side series can have (they need a value per date only).
    public static let featureNames = ["level", "logReturn", "volatility", "returns", "macd", "rsi", "zscore"]

    /// The most common spacing between consecutive times (the larger one on a tie; one day for fewer than two times).
    public static func period(_ times: [Int64]) -> Int64 {
        var counts: [Int64: Int] = [:]
        for (a, b) in zip(times, times.dropFirst()) { counts[b - a, default: 0] += 1 }
        return counts.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? 86_400
    }

    /// For each time of `bars` (ascending), the index of the last of `times` known at that bar's close, −1 if none.
    public static func visibleRows(_ times: [Int64], at bars: [Int64]) -> [Int] {
        let own = period(times), barPeriod = period(bars)
        var rows = [Int](repeating: -1, count: bars.count)
        var j = -1
        for (t, bar) in bars.enumerated() {
            while j + 1 < times.count && times[j + 1] + own <= bar + barPeriod { j += 1 }
            rows[t] = j
        }
        return rows
    }

    /// The value seen at each of `bars` (NaN before the first known one).
    public func values(at bars: [Int64]) -> [Double] {
        Self.visibleRows(timestamps, at: bars).map { $0 >= 0 ? values[$0] : .nan }
    }

    /// Reads `config.column` of `config.file` (relative to `baseDirectory` unless absolute). Rows whose value is
    /// missing (empty, `null`, `.`) are skipped: the as-of join carries the previous value over them. A newest-first
    /// file is reversed; dates must then be strictly increasing. Errors name the file, row and column.
    public static func load(_ config: SideSeriesConfig, baseDirectory: String) throws -> SideSeries {
        let name = config.file
        guard !config.file.isEmpty, !config.column.isEmpty else {
            throw MarketDataError("DataConfig: side series '\(config.seriesName)' needs a file and a column")
        }
        let path = name.hasPrefix("/") || baseDirectory.isEmpty ? name : baseDirectory + "/" + name
        let bytes = try FileBytes.read(path)
        return try bytes.withUnsafeBufferPointer { buf in
            let base = buf.baseAddress!
            var lines = CSVLoader.LineReader(base: base, end: buf.count - 1)
            if buf.count >= 4, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { lines.pos = 3 }  // byte order mark
            func text(_ s: Int, _ e: Int) -> String {
                String(decoding: UnsafeBufferPointer(start: base + s, count: e - s), as: UTF8.self)
            }
            func fields(_ s: Int, _ e: Int) -> [(Int, Int)] {
                var out: [(Int, Int)] = [], start = s
                for i in s...e where i == e || base[i] == 44 { out.append((start, i)); start = i + 1 }
                return out
            }
            var header: [String] = []
            while header.isEmpty, let (s, e) = lines.next() {
                guard !CSVLoader.isBlank(base, s, e) else { continue }
                let quotes = CharacterSet(charactersIn: " \t\"'")
                header = fields(s, e).map { text($0.0, $0.1).trimmingCharacters(in: quotes) }
            }
            guard !header.isEmpty else { throw MarketDataError("\(name): empty file (no header row)") }
            let headerLine = lines.lineNumber
            guard let dateColumn = header.indices.first(where: { CSVLoader.role(of: header[$0], index: $0) == .date })
            else {
                throw MarketDataError.at(
                    name, row: headerLine,
                    "missing column 'date' "
                        + "(date, time, timestamp, datetime or an unnamed first column)")
            }
            guard let valueColumn = header.firstIndex(where: { $0.lowercased() == config.column.lowercased() }) else {
                let columns = header.joined(separator: ", ")
                throw MarketDataError.at(name, row: headerLine, "no column '\(config.column)' (columns: \(columns))")
            }
            let dateName = header[dateColumn], valueName = header[valueColumn]
            var times: [Int64] = [], values: [Double] = [], rows: [Int] = []
            var format = DateFormat.auto
            while let (s, e) = lines.next() {
                if CSVLoader.isBlank(base, s, e) { continue }
                let row = lines.lineNumber, f = fields(s, e)
                guard f.count == header.count else {
                    throw MarketDataError.at(
                        name, row: row,
                        "\(f.count) fields but the header has \(header.count) columns")
                }
                let (vs, ve) = f[valueColumn], (ds, de) = f[dateColumn]
                if CSVLoader.isMissing(base, vs, ve) { continue }
                let date = UnsafeBufferPointer(start: base + ds, count: de - ds)
                if format == .auto, let found = DateParser.detect(date) { format = found }
                guard let t = DateParser.parse(date, as: format) else {
                    throw MarketDataError.at(
                        name, row: row, column: dateName,
                        "'\(text(ds, de))' is not a date "
                            + "in a supported layout (\(CSVLoader.layouts))")
                }
                guard let v = NumberParser.parse(buf, vs, ve), v.isFinite else {
                    throw MarketDataError.at(
                        name, row: row, column: valueName,
                        "'\(text(vs, ve))' is not a finite number")
                }
                times.append(t); values.append(v); rows.append(row)
            }
            guard !times.isEmpty else { throw MarketDataError("\(name): no values in column '\(valueName)'") }
            if times[0] > times[times.count - 1] { times.reverse(); values.reverse(); rows.reverse() }
            for k in times.indices.dropFirst() where times[k] <= times[k - 1] {
                let (date, previous) = (DateParser.format(times[k]), DateParser.format(times[k - 1]))
                throw MarketDataError.at(
                    name, row: rows[k], column: dateName,
                    "date \(date) is not after \(previous) (row \(rows[k - 1]))")
            }
            return SideSeries(name: config.seriesName, timestamps: times, values: values)
        }
    }

    /// The series' feature columns on `bars`' calendar (D rows; columns `NAME.level`, …): its features are computed on
    /// its own dates, then each bar takes the row of the last value known at its close. Checks the late start and the
    /// runs of bars without a new value against `config`.
    public func features(at bars: [Int64], config: SideSeriesConfig) throws -> FeatureMatrix {
        let context = "DataConfig: side series '\(name)'"
        func day(_ t: Int64) -> String { DateParser.format(t) }
        try config.features.validate("\(context): features", allowed: Self.featureNames)
        let needsPositive = config.features.list.contains { ["logReturn", "volatility", "returns"].contains($0.name) }
        if needsPositive, let k = values.firstIndex(where: { !($0 > 0) }) {
            throw MarketDataError(
                "\(context): value \(values[k]) on \(day(timestamps[k])) is not positive "
                    + "(logReturn, volatility and returns need positive values)")
        }
        guard config.maxGapFill >= 0 else {
            throw MarketDataError("\(context): maxGapFill \(config.maxGapFill) is negative")
        }
        let rowOf = Self.visibleRows(timestamps, at: bars)
        guard let first = rowOf.firstIndex(where: { $0 >= 0 }) else {
            throw MarketDataError("\(context): its first value (\(day(timestamps[0]))) comes after the last bar")
        }
        if first > 0 && config.lateStart == .error {
            throw MarketDataError(
                "\(context): its first value (\(day(timestamps[0]))) comes after the first bar "
                    + "(\(day(bars[0]))); set lateStart: zeros to start it at zeros")
        }
        var t = first + 1
        while t < bars.count {
            guard rowOf[t] == rowOf[t - 1] else { t += 1; continue }
            var end = t
            while end < bars.count && rowOf[end] == rowOf[t - 1] { end += 1 }
            if end - t > config.maxGapFill {
                throw MarketDataError(
                    "\(context): \(end - t) bars in a row without a new value, "
                        + "\(day(bars[t]))..\(day(bars[end - 1])) (last value \(day(timestamps[rowOf[t]]))); "
                        + "maxGapFill is \(config.maxGapFill)")
            }
            t = end
        }
        let s = timestamps.count
        let own = Panel(
            source: name, tickers: [name], timestamps: timestamps, open: values, high: values, low: values,
            close: values, volume: [Double](repeating: 0, count: s),
            observed: [Bool](repeating: true, count: s))
        var block = try FeatureMatrix.compute(own, config: config.features).expanded(rowOf)
        if config.lateStart == .zeros { block.warmup = 0 }
        block.warmups = [name: block.warmup]
        return block
    }
}
