import Foundation
import Testing

@testable import MarketData

struct ParsingTests {
    func number(_ text: String) -> Double? {
        let bytes = Array(text.utf8) + [0]
        return bytes.withUnsafeBufferPointer { NumberParser.parse($0, 0, $0.count - 1) }
    }

    func date(_ text: String, _ format: DateFormat) -> Int64? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { DateParser.parse($0, as: format) }
    }

    @Test func numbersMatchSwiftsConversion() {
        for text in [
            "0", "100", "-0.5", "+2.25", "1228.099976", "0.0672", "143539993.3", "4885529785", "1e5", "2.5E-3", ".5",
            "5.",
            "1.2345678901234567", "123456789012345678901234", "1e300", "4.186662803811", "0.000000000000000000000001",
        ] {
            #expect(number(text) == Double(text), "\(text)")
        }
        #expect(number("NaN")!.isNaN && number("inf") == .infinity && number("-Infinity") == -.infinity)
        for text in ["", "abc", "1.5x", "--1", "1e", "0x10", "1,5", " 1", "1 ", "1.2.3", "e5", "."] {
            #expect(number(text) == nil, "\(text)")
        }
    }

    @Test func datesInEveryLayout() {
        #expect(date("2018-12-31", .isoDate) == 1_546_214_400)
        #expect(date("1970-01-01", .isoDate) == 0 && date("1950-01-03", .isoDate) == -630_979_200)
        #expect(date("12/31/2018", .monthDayYear) == 1_546_214_400 && date("1/4/1999", .monthDayYear) == 915_408_000)
        #expect(date("2018-02-07 15:00:00", .isoDateTime) == 1_518_015_600)
        #expect(date("07.02.2018 15:00:00.000", .dayMonthYearTime) == 1_518_015_600)
        #expect(date("07.02.2018 15:00:00", .dayMonthYearTime) == 1_518_015_600)
        #expect(
            date("2000-02-29", .isoDate) != nil && date("2019-02-29", .isoDate) == nil
                && date("1900-02-29", .isoDate) == nil)
        for (text, format) in [
            ("2018-13-01", DateFormat.isoDate), ("2018-12-32", .isoDate), ("2018-1-05", .isoDate),
            ("2018-12-31 24:00:00", .isoDateTime), ("13/1/2018", .monthDayYear), ("1/1/18", .monthDayYear),
            ("2018-12-31", .monthDayYear), ("31.12.2018 10:00:00.0", .dayMonthYearTime),
        ] {
            #expect(date(text, format) == nil, "\(text)")
        }
        #expect(
            DateParser.format(1_518_015_600) == "2018-02-07 15:00:00"
                && DateParser.format(1_546_214_400) == "2018-12-31")
        #expect(DateParser.year(-1) == 1969 && DateParser.year(1_546_214_400) == 2018)
    }
}
