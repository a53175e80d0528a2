import Foundation
import Testing

@testable import MarketData

/// The data files committed under `data/` load cleanly with the documented splits.
struct RepoDataTests {
    @Test func sp500SingleAssetDefault() throws {
        let m = try loadMarket(DataConfig(), baseDirectory: repoRoot)
        #expect(m.panel.tickers == ["sp500_1999_2018_arch"] && m.panel.barCount == 5031)
        #expect(m.report.rowsDropped == 0 && m.report.rowsRepaired == 0 && m.report.filledCells == 0)
        #expect(m.splits.train.count == 3019 && m.splits.validation.count == 502 && m.splits.test.count == 1510)
        #expect(m.splits.train.lowerBound == 0 && m.splits.test.upperBound == 5031)
        #expect(m.features.width == 5 && m.features.warmup == 20 && m.observations.rows == 5031)
        #expect(m.normaliser.fittedRows == 20..<3019)
        #expect(m.summary.contains("train: 1999-01-04..2010-12-31 (3019 bars)"))
    }

    /// The bars a year that annualise metrics: 252 for the daily S&P 500, 24 × 252 for the round-the-clock hourly
    /// EUR/USD, or what `data.barsPerYear` sets; a negative one is one line.
    @Test func barsPerYearOfTheRepositoryFiles() throws {
        #expect(try loadMarket(DataConfig(), baseDirectory: repoRoot).panel.barsPerYear == 252)
        var hourly = DataConfig()
        hourly.file = "data/eurusd_1h_2017_gym_anytrading.csv.gz"
        hourly.splits = SplitConfig(train: [2017, 2017], validation: [], test: [])
        #expect(try loadMarket(hourly, baseDirectory: repoRoot).panel.barsPerYear == 6_048)
        hourly.barsPerYear = 6_240
        #expect(try loadMarket(hourly, baseDirectory: repoRoot).panel.barsPerYear == 6_240)
        hourly.barsPerYear = -1
        let message = "DataConfig: barsPerYear -1.0 must be ≥ 0 (0: from the bars' spacing, 252 for daily bars)"
        #expect(throws: MarketDataError(message)) { try loadMarket(hourly, baseDirectory: repoRoot) }
    }

    /// A model's saved normaliser applied to other bars: nothing is refitted, and after the feature warm-up the
    /// observations of a later slice equal those of the full file on the same dates.
    @Test func frozenNormaliserOnLaterYears() throws {
        let full = try loadMarket(DataConfig(), baseDirectory: repoRoot)
        let saved = try JSONDecoder().decode(Normaliser.self, from: JSONEncoder().encode(full.normaliser))
        var later = DataConfig()
        later.start = "2013-01-01"
        later.splits = SplitConfig(train: [], validation: [], test: [2013, 2018])
        // Without a saved normaliser the train split is required (to fit one).
        let message = "DataConfig: splits.train [] must be [first year, last year] with first <= last"
        #expect(throws: MarketDataError(message)) {
            try loadMarket(later, baseDirectory: repoRoot)
        }
        let m = try loadMarket(later, baseDirectory: repoRoot, normaliser: saved)
        #expect(m.normaliser == full.normaliser && m.splits.train.isEmpty && m.splits.test == 0..<1510)
        let offset = full.splits.test.lowerBound
        let w = m.observations.width
        for row in m.observations.warmup..<m.observations.rows {
            #expect(m.panel.timestamps[row] == full.panel.timestamps[row + offset])
            #expect(
                m.observations.values[(row * w)..<((row + 1) * w)]
                    == full.observations.values[((row + offset) * w)..<((row + offset + 1) * w)])
        }
    }

    @Test func twentyStockPanel() throws {
        var config = DataConfig()
        config.file = "data/us_stocks_20_1990_2012.csv.gz"
        config.splits = SplitConfig(train: [1990, 2008], validation: [2009, 2010], test: [2011, 2012])
        let m = try loadMarket(config, baseDirectory: repoRoot)
        #expect(m.panel.assetCount == 20 && m.panel.barCount == 5797)
        #expect(m.report.rowsRead == 115_901 && m.report.filledCells == 20 * 5797 - 115_901)
        #expect(m.report.droppedAssets.isEmpty && m.report.rowsDropped == 0)
        #expect(m.splits.train.count == 4791 && m.splits.validation.count == 504 && m.splits.test.count == 502)
        #expect(m.features.width == 100 && m.features.names.first == "AAPL.logReturn")
        #expect(m.observations.values.allSatisfy { $0.isFinite })
        #expect(m.summary.contains("assets (20): AAPL AMGN BAC") && m.summary.contains("39 cells forward-filled"))
        #expect(m.summary.contains("largest |normalised value|"))
        // With the mask: 38 of the 39 carried cells fall in the training years, and `check-env` counts them.
        config.features = FeatureConfig([.logReturn, .observed])
        let masked = try loadMarket(config, baseDirectory: repoRoot)
        let fitted = masked.normaliser.fittedRows, observedColumns = (0..<20).map { 2 * $0 + 1 }
        #expect(fitted == 1..<4791 && masked.observations.names[1] == "AAPL.observed")
        let carried = fitted.reduce(0) { sum, t in sum + observedColumns.count { masked.observations[t, $0] == 0 } }
        #expect(carried == 38)
        #expect(masked.summary.contains("observed: 0 or 1, not standardised; 38 of 95800 train cells carried"))
    }
}
