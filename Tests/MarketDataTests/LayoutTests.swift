import Foundation
import Testing

@testable import MarketData

/// Every layout of the public data files in `Fixtures/README.md`, read from a committed sample of the real file (same
/// header).
struct LayoutTests {
    @Test func isoDatesWithAdjClose() throws {
        let (p, r) = try load(fixture("googl_2009_2018_gym_anytrading.csv"))
        #expect(p.tickers == ["googl_2009_2018_gym_anytrading"])
        #expect(p.barCount == 18 && r.rowsRead == 18 && r.rowsDropped == 0)
        #expect(r.dateFormat == .isoDate)
        #expect(p.timestamps[0] == day("2009-05-22"))
        #expect(
            p.open[0] == 198.528534 && p.high[0] == 199.524521 && p.low[0] == 196.196198 && p.close[0] == 196.946945)
        #expect(p.volume[0] == 3_433_700)
        #expect(p.timestamps.last == day("2018-08-29"))
        #expect(p.observed.allSatisfy { $0 })
    }

    @Test func monthDayYearDates() throws {
        for name in ["sp500_1999_2018_arch.csv", "nasdaq_1999_2018_arch.csv"] {
            let (p, r) = try load(fixture(name))
            #expect(r.dateFormat == .monthDayYear)
            #expect(p.timestamps[0] == day("1999-01-04"))
            #expect(p.timestamps.last == day("2018-12-31"))
            #expect(p.barCount == 18)
        }
        let (p, _) = try load(fixture("sp500_1999_2018_arch.csv"))
        #expect(p.close[0] == 1228.099976 && p.volume[0] == 877_000_000)
    }

    @Test func unnamedIndexColumnDailyAndHourly() throws {
        // the backtesting package's layout (unnamed index column), filled with permissively licensed rows
        let (goog, g) = try load(fixture("goog_2004_2013_unnamed_index_bokeh.csv"))
        #expect(g.dateFormat == .isoDate)
        #expect(goog.timestamps[0] == day("2004-08-19") && goog.open[0] == 100.01 && goog.close[0] == 100.335)
        let (fx, f) = try load(fixture("eurusd_1h_2017_unnamed_index_gym_anytrading.csv"))
        #expect(f.dateFormat == .isoDateTime)
        #expect(fx.timestamps[0] == day("2017-01-01") + 22 * 3600)
        #expect(fx.timestamps[1] - fx.timestamps[0] == 3600)
        #expect(fx.timestamps.last == day("2017-12-29") + 21 * 3600)
        #expect(fx.volume[0] == 143539993.3)
    }

    @Test func dayMonthYearTimeWithMilliseconds() throws {
        let (p, r) = try load(fixture("eurusd_1h_ask_2017_gym_anytrading.csv"))
        #expect(r.dateFormat == .dayMonthYearTime)
        #expect(p.timestamps[0] == day("2017-01-01") + 22 * 3600)
        #expect(p.timestamps.last == day("2017-12-29") + 21 * 3600)
        #expect(p.volume[0] == 143_539_993.3)
    }

    @Test func newestFirstFileIsReversed() throws {
        let (p, r) = try load(fixture("sp500_1950_2015_great_tables.csv"))
        #expect(r.dateFormat == .isoDate)
        #expect(p.timestamps.first == day("1950-01-03"))
        #expect(p.timestamps.last == day("2015-12-31"))
        #expect(zip(p.timestamps, p.timestamps.dropFirst()).allSatisfy { $0 < $1 })
        #expect(p.close.last == 2043.9399 && p.close.first == 16.66)
    }

    @Test func nullRowsAreSkippedAndCounted() throws {
        let (n225, a) = try load(fixture("n225_1990_2001_nolds.csv"))
        #expect(a.nullRows == 2 && a.rowsDropped == 2 && a.rowsRead == 18 && n225.barCount == 16)
        #expect(!n225.timestamps.contains(day("1990-01-15")))
        let (jkse, b) = try load(fixture("jkse_1997_2001_nolds.csv"))
        #expect(b.nullRows == 1 && jkse.barCount == b.rowsRead - 1)
        let (ndx, c) = try load(fixture("ndx_1990_2001_nolds.csv"))
        #expect(c.nullRows == 0 && ndx.barCount == 18)
    }

    @Test func extraColumnIgnoredAndVolumeOptional() throws {
        let (msft, _) = try load(fixture("msft_1986_2017_pmdarima.csv"))
        #expect(msft.open[0] == 0.0672 && msft.high[0] == 0.07533 && msft.volume[0] == 1_371_330_506)
        // The sample keeps one of the file's 47 rows with an inconsistent high (line 14: open 19.24 > high 18.57).
        #expect(
            loadError(
                "vix_ohlc_1990_2026_datahub.csv",
                try String(contentsOfFile: fixture("vix_ohlc_1990_2026_datahub.csv"), encoding: .utf8))
                == "vix_ohlc_1990_2026_datahub.csv:14: column 'HIGH': 18.57 is below max(open, close) 19.24")
        let (vix, r) = try load(fixture("vix_ohlc_1990_2026_datahub.csv")) { $0.repair = .clamp }
        #expect(!r.closeOnly && r.rowsRepaired == 1 && vix.barCount == 19)
        let bad = vix.timestamps.firstIndex(of: day("1992-02-11"))!
        #expect(vix.high[bad] == 19.24 && vix.low[bad] == 17.61)
        #expect(vix.volume.allSatisfy { $0 == 0 })
        #expect(vix.timestamps.last == day("2026-07-23") && vix.high.last == 20.31)
    }

    @Test func closeOnlySingleColumnFiles() throws {
        let (vix, r) = try load(fixture("vix_close_2014_2019_arch.csv"))
        #expect(r.closeOnly && vix.tickers == ["vix"])
        #expect(vix.close[0] == 13.76 && vix.open[0] == 13.76 && vix.high[0] == 13.76 && vix.low[0] == 13.76)
        #expect(vix.volume.allSatisfy { $0 == 0 })
        #expect(r.nullRows == 2 && !vix.timestamps.contains(day("2014-01-20")))  // "1/20/2014,." (FRED's missing value)
        let (spx, s) = try load(fixture("sp500_index_close_1990_2022_skfolio.csv.gz"))
        #expect(s.closeOnly && spx.tickers == ["SP500"] && spx.close[0] == 359.69)
    }

    @Test func wideClosePanel() throws {
        let (p, r) = try load(fixture("sp500_20stocks_adjclose_1990_2022_skfolio.csv.gz"))
        #expect(r.closeOnly)
        #expect(p.assetCount == 20 && p.tickers.first == "AAPL" && p.tickers.last == "XOM")
        #expect(p.barCount == 18)
        // row 1990-01-02: AAPL, AMD, …, XOM
        #expect(p.close[0] == 0.264 && p.close[1] == 4.125 && p.close[19] == 4.068)
        #expect(p.close[20] == 0.266)  // 1990-01-03 AAPL
        let (some, _) = try load(fixture("sp500_20stocks_adjclose_1990_2022_skfolio.csv.gz")) {
            $0.tickers = ["XOM", "AMD"]
        }
        #expect(some.tickers == ["XOM", "AMD"] && some.close[0] == 4.068 && some.close[1] == 4.125)
        let (window, w) = try load(fixture("sp500_20stocks_adjclose_1990_2022_skfolio.csv.gz")) {
            $0.start = "1990-01-04"; $0.end = "1990-01-08"
        }
        #expect(window.timestamps == [day("1990-01-04"), day("1990-01-05"), day("1990-01-08")])
        #expect(w.rowsOutsideSelection == 15 && w.rowsRead == 18)
    }

    @Test func longPanelDateTicker() throws {
        let (p, r) = try load(fixture("us_stocks_top100_1990_2012.csv.gz"))
        #expect(p.tickers == ["AAPL", "IBM", "MSFT", "XOM"])
        #expect(p.barCount == 13 && r.rowsRead == 52 && r.filledCells == 0)
        #expect(p.timestamps[0] == day("1990-01-02") && p.timestamps.last == day("2012-12-31"))
        #expect(p.close[0 * 4 + 0] == 1.1921)  // 1990-01-02 AAPL
        #expect(p.volume[0] == 51_090_928)
    }

    @Test func longPanelTickerDateWithLateAssets() throws {
        let (dropped, d) = try load(fixture("quandl_wiki_5stocks_2000_2013_bokeh.csv.gz"))
        #expect(dropped.tickers == ["AAPL", "IBM", "MSFT"])
        #expect(d.droppedAssets == ["FB", "GOOG"])
        #expect(dropped.barCount == 11)
        // Adj Close is applied by default: AAPL's 2000-03-01 close 130.31 becomes 4.186662803811, the open scales
        // alike.
        #expect(dropped.close[0] == 4.186662803811 && abs(dropped.open[0] - 118.56 * 4.186662803811 / 130.31) < 1e-12)
        let (raw, _) = try load(fixture("quandl_wiki_5stocks_2000_2013_bokeh.csv.gz")) { $0.adjustPrices = false }
        #expect(raw.close[0] == 130.31 && raw.open[0] == 118.56 && raw.volume[0] == 9_616_100)
        // Trimmed to FB's span, the sample has no AAPL/IBM/MSFT bars for FB's first 8 dates: too long a gap.
        do {
            _ = try load(fixture("quandl_wiki_5stocks_2000_2013_bokeh.csv.gz")) { $0.lateAssets = .trim }
            Issue.record("expected a gap error")
        } catch {
            #expect(
                "\(error)"
                    == "quandl_wiki_5stocks_2000_2013_bokeh.csv.gz: ticker 'AAPL': 8 bars missing from 2012-05-18 to "
                    + "2012-05-30 (maxGapFill is 5)"
            )
        }
        let (trimmed, t) = try load(fixture("quandl_wiki_5stocks_2000_2013_bokeh.csv.gz")) {
            $0.lateAssets = .trim; $0.start = "2013-01-01"
        }
        #expect(trimmed.tickers == ["AAPL", "FB", "GOOG", "IBM", "MSFT"])
        #expect(trimmed.timestamps == [day("2013-02-27"), day("2013-02-28"), day("2013-03-01")])
        #expect(t.trimmedBars == 0 && t.filledCells == 0)
        #expect(trimmed.close[1] == 26.87)  // FB 2013-02-27 (Adj Close equals Close)
    }

    @Test func dateRangeAndTickerSelection() throws {
        let (p, r) = try load(fixture("us_stocks_top100_1990_2012.csv.gz")) {
            $0.tickers = ["MSFT", "AAPL"]; $0.start = "1990-01-03"; $0.end = "1990-01-05"
        }
        #expect(p.tickers == ["MSFT", "AAPL"])
        #expect(p.timestamps == [day("1990-01-03"), day("1990-01-04"), day("1990-01-05")])
        #expect(r.rowsOutsideSelection == 52 - 6)
        let missing =
            "us_stocks_top100_1990_2012.csv.gz: ticker 'ZZZ' is not in the file "
            + "(it has: AAPL, IBM, MSFT, XOM)"
        #expect(throws: MarketDataError(missing)) {
            try load(fixture("us_stocks_top100_1990_2012.csv.gz")) { $0.tickers = ["ZZZ"] }
        }
    }

    /// The gzip reader against plain text: a file written with zlib's gzwrite loads like the same text uncompressed.
    @Test func gzipRoundTrip() throws {
        let plain = try String(contentsOfFile: fixture("sp500_1999_2018_arch.csv"), encoding: .utf8)
        let gzPath = tempDirectory() + "/sp500_1999_2018_arch.csv.gz"
        try GzipFile.write(Array(plain.utf8), to: gzPath)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: gzPath))
        #expect(compressed.prefix(2) == Data([0x1f, 0x8b]))
        let fromGz = try load(gzPath, name: "sp500_1999_2018_arch.csv")
        let fromText = try load(fixture("sp500_1999_2018_arch.csv"))
        #expect(fromGz.panel == fromText.panel)
        #expect(fromGz.panel.barCount == 18)
    }
}
