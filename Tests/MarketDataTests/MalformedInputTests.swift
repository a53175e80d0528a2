import Foundation
import Testing

@testable import MarketData

/// Each kind of malformed input is rejected with ONE line naming file, row (1-based line) and column.
struct MalformedInputTests {
    let header = "Date,Open,High,Low,Close,Volume\n"
    let good = "2020-01-02,10,11,9,10.5,100\n"

    @Test func missingColumn() {
        #expect(
            loadError("x.csv", "Date,Open,High,Close,Volume\n2020-01-02,10,11,10.5,100\n")
                == "x.csv:1: missing column 'low' in header 'Date,Open,High,Close,Volume'")
        #expect(loadError("x.csv", "Open,High,Low,Close\n10,11,9,10\n").hasPrefix("x.csv:1: missing column 'date'"))
    }

    @Test func unparseableDate() {
        #expect(
            loadError("x.csv", header + good + "2020-01-3x,10,11,9,10.5,100\n")
                == "x.csv:3: column 'Date': '2020-01-3x' is not a valid YYYY-MM-DD date")
        #expect(
            loadError("x.csv", header + good + "2020-02-30,10,11,9,10.5,100\n")
                == "x.csv:3: column 'Date': '2020-02-30' is not a valid YYYY-MM-DD date")
        #expect(
            loadError("x.csv", header + "yesterday,10,11,9,10.5,100\n").hasPrefix(
                "x.csv:2: column 'Date': 'yesterday' is not a date in a supported layout"))
    }

    @Test func duplicateDate() {
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,9,10.5,100\n2020-01-03,10,11,9,10.5,100\n")
                == "x.csv:4: column 'Date': duplicate date 2020-01-03 (also on row 3)")
    }

    @Test func decreasingDateInAscendingFile() {
        let text =
            header + good + "2020-01-06,10,11,9,10.5,100\n2020-01-03,10,11,9,10.5,100\n2020-01-07,10,11,9,10.5,100\n"
        #expect(
            loadError("x.csv", text)
                == "x.csv:4: column 'Date': date 2020-01-03 is out of order after 2020-01-06 (row 3)")
    }

    @Test func emptyFileAndHeaderOnly() {
        #expect(loadError("x.csv", "") == "x.csv: empty file (no header row)")
        #expect(loadError("x.csv", "\n  \n") == "x.csv: empty file (no header row)")
        #expect(loadError("x.csv", header) == "x.csv: header only, no data rows")
    }

    @Test func nonFinitePrices() {
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,9,NaN,100\n")
                == "x.csv:3: column 'Close': nan is not a finite positive price")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,inf,9,10,100\n")
                == "x.csv:3: column 'High': inf is not a finite positive price")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,-10,11,9,10,100\n")
                == "x.csv:3: column 'Open': -10.0 is not a finite positive price")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,0,10,100\n")
                == "x.csv:3: column 'Low': 0.0 is not a finite positive price")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,9,10,-5\n")
                == "x.csv:3: column 'Volume': -5.0 is not a finite volume >= 0")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,null,10,5\n")
                == "x.csv:3: column 'Low': missing value 'null'")
    }

    @Test func highLowRules() {
        #expect(
            loadError("x.csv", header + good + "2020-01-03,9.5,9,10,9.5,100\n")
                == "x.csv:3: column 'Low': 10.0 is above high 9.0")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,10.2,9,10.4,100\n")
                == "x.csv:3: column 'High': 10.2 is below max(open, close) 10.4")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,10.1,10.4,100\n")
                == "x.csv:3: column 'Low': 10.1 is above min(open, close) 10.0")
    }

    @Test func zeroVolumeIsLegal() throws {
        let (p, _) = try load(writeTemp("x.csv", header + "2020-01-02,10,11,9,10.5,0\n"))
        #expect(p.volume == [0])
    }

    @Test func textInNumberField() {
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,9,10.5,lots\n")
                == "x.csv:3: column 'Volume': 'lots' is not a number")
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,9,10.5x,5\n")
                == "x.csv:3: column 'Close': '10.5x' is not a number")
    }

    @Test func mixedDateFormats() {
        #expect(
            loadError("x.csv", header + good + "1/3/2020,10,11,9,10.5,100\n")
                == "x.csv:3: column 'Date': mixed date formats: '1/3/2020' is M/D/YYYY but earlier rows are YYYY-MM-DD")
        // A configured layout is enforced from the first row.
        #expect(
            loadError("x.csv", header + good) { $0.dateFormat = .monthDayYear }
                == "x.csv:2: column 'Date': mixed date formats: "
                + "'2020-01-02' is YYYY-MM-DD but the config's dateFormat is M/D/YYYY"
        )
    }

    @Test func badAdjustedClose() {
        let text = "Date,Open,High,Low,Close,Adj Close\n2020-01-02,10,11,9,10,5\n2020-01-03,10,11,9,10,null\n"
        #expect(loadError("x.csv", text) == "x.csv:3: column 'Adj Close': missing value 'null' (adjustPrices is on)")
        #expect(loadError("x.csv", text) { $0.adjustPrices = false } == "no error")
        // Found by the fuzzer: a denormal close scaled up to the adjusted close overflows open, high and low.
        let overflow =
            "Date,Open,High,Low,Close,Adj Close\n2020-01-02,10,11,9,10,5\n2020-01-03,1e-320,1e-320,1e-320,1e-320,5\n"
        #expect(
            loadError("x.csv", overflow)
                == "x.csv:3: column 'Adj Close': 5.0 over close 1e-320 scales the prices out of "
                + "range (adjustPrices is on)"
        )
    }

    @Test func ambiguousHeader() {
        #expect(
            loadError("x.csv", "Date,Close,close\n2020-01-02,1,1\n")
                == "x.csv:1: column 'close': same meaning as column 'Close' (each of date, open, high, low, close, adj "
                + "close, volume, ticker may appear once)"
        )
        #expect(
            loadError("x.csv", "Date,Ticker\n2020-01-02,A\n")
                == "x.csv:1: missing column 'close' in header 'Date,Ticker'")
    }

    @Test func closeColumnOnly() throws {
        let (p, r) = try load(writeTemp("spy.csv", "Date,Close\n2020-01-02,10\n2020-01-03,11\n"))
        #expect(p.tickers == ["spy"] && r.closeOnly && p.open == [10, 11] && p.low == [10, 11] && p.volume == [0, 0])
    }

    @Test func wrongFieldCount() {
        #expect(
            loadError("x.csv", header + good + "2020-01-03,10,11,9,10.5\n")
                == "x.csv:3: 5 fields but the header has 6 columns")
    }

    @Test func truncatedGzip() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("us_stocks_top100_1990_2012.csv.gz")))
        let path = tempDirectory() + "/cut.csv.gz"
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        var config = DataConfig()
        config.file = "cut.csv.gz"
        #expect(
            throws: MarketDataError("\(path): cannot decompress the file (truncated gzip data: unexpected end of file)")
        ) {
            try loadPanel(path: path, config: config)
        }
    }

    @Test func missingFile() {
        var config = DataConfig()
        config.file = "data/nope.csv"
        #expect(throws: MarketDataError("/nonexistent/data/nope.csv: cannot open the file")) {
            try loadMarket(config, baseDirectory: "/nonexistent")
        }
    }
}
