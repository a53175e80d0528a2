/// The date/time layouts the loader reads. The raw value is how a config names it (`""` = detect per file).
///
/// Dates and times carry no zone in these files; they are read as UTC (a date alone is midnight UTC), so a bar's
/// timestamp is its time as written.
public enum DateFormat: String, Codable, Sendable, CaseIterable {
    /// Detect the layout from the first data row; every later row must use the same layout.
    case auto = ""
    /// `2018-12-31`
    case isoDate = "YYYY-MM-DD"
    /// `2018-02-07 15:00:00` (intraday)
    case isoDateTime = "YYYY-MM-DD HH:MM:SS"
    /// `12/31/2018` (month and day may have one or two digits)
    case monthDayYear = "M/D/YYYY"
    /// `29.12.2017 21:00:00.000` (milliseconds optional)
    case dayMonthYearTime = "DD.MM.YYYY HH:MM:SS.000"
}

/// Date parsing over raw bytes (no Foundation formatter: it is far too slow for 580k rows). All times are UTC.
public enum DateParser {
    /// The layout a field is written in, judged from its shape only (`nil` if it matches none).
    static func detect(_ f: UnsafeBufferPointer<UInt8>) -> DateFormat? {
        if f.count >= 10, f[4] == UInt8(ascii: "-") { return f.count == 10 ? .isoDate : .isoDateTime }
        if f.count >= 19, f[2] == UInt8(ascii: "."), f[5] == UInt8(ascii: ".") { return .dayMonthYearTime }
        if f.contains(UInt8(ascii: "/")) { return .monthDayYear }
        return nil
    }

    /// Seconds since 1970 UTC of `f` read in `format`, or `nil` if it is not a valid date in that layout.
    static func parse(_ f: UnsafeBufferPointer<UInt8>, as format: DateFormat) -> Int64? {
        var p = 0
        /// Reads exactly `n` digits (or 1...n when `flexible`).
        func number(_ n: Int, flexible: Bool = false) -> Int? {
            var value = 0, digits = 0
            while digits < n, p < f.count, f[p] >= 48, f[p] <= 57 {
                value = value * 10 + Int(f[p] - 48); p += 1; digits += 1
            }
            return digits == n || (flexible && digits > 0) ? value : nil
        }
        func expect(_ c: Character) -> Bool {
            guard p < f.count, f[p] == c.asciiValue! else { return false }
            p += 1; return true
        }
        var y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0
        switch format {
        case .auto:
            return nil
        case .isoDate, .isoDateTime:
            guard let y1 = number(4), expect("-"), let m1 = number(2), expect("-"), let d1 = number(2) else {
                return nil
            }
            (y, m, d) = (y1, m1, d1)
            if format == .isoDateTime {
                guard expect(" "), let h = number(2), expect(":"), let mi = number(2), expect(":"), let s = number(2)
                else { return nil }
                (hh, mm, ss) = (h, mi, s)
            }
        case .monthDayYear:
            guard let m1 = number(2, flexible: true), expect("/"), let d1 = number(2, flexible: true), expect("/"),
                let y1 = number(4)
            else { return nil }
            (y, m, d) = (y1, m1, d1)
        case .dayMonthYearTime:
            guard let d1 = number(2), expect("."), let m1 = number(2), expect("."), let y1 = number(4), expect(" "),
                let h = number(2), expect(":"), let mi = number(2), expect(":"), let s = number(2)
            else { return nil }
            (y, m, d, hh, mm, ss) = (y1, m1, d1, h, mi, s)
            if p < f.count { guard expect("."), number(3) != nil else { return nil } }
        }
        guard p == f.count, (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y), hh < 24, mm < 60, ss < 60
        else { return nil }
        return (daysFromCivil(y, m, d) * 86_400) + Int64(hh * 3600 + mm * 60 + ss)
    }

    static func daysIn(month m: Int, year y: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468)
    }

    /// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civil(fromDays z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = Int(z0) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Calendar year (UTC) of a timestamp.
    public static func year(_ t: Int64) -> Int { civil(fromDays: floorDiv(t, 86_400)).year }

    /// Seconds since 1970 of an ISO `YYYY-MM-DD` string (config start/end), `nil` if malformed.
    static func isoDay(_ s: String) -> Int64? {
        var bytes = Array(s.utf8)
        return bytes.withUnsafeMutableBufferPointer { parse(UnsafeBufferPointer($0), as: .isoDate) }
    }

    /// `2018-12-31` for a midnight timestamp, `2018-12-31 15:00:00` otherwise.
    public static func format(_ t: Int64) -> String {
        let days = floorDiv(t, 86_400), secs = Int(t - days * 86_400)
        let (y, m, d) = civil(fromDays: days)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let date = "\(y)-\(two(m))-\(two(d))"
        return secs == 0 ? date : "\(date) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))"
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
