import Foundation
import Testing

@testable import MarketData

/// Every feature against pandas (`scripts/make_feature_fixtures.py` → `Fixtures/features.json`) on 420 real bars of
/// five stocks of the committed panel: equal within 1e-9 (relative above 1) wherever pandas defines a value, and 0 in
/// the matrix where it does not (the warm-up).
@Suite struct FeatureFixtureTests {
    struct Fixture: Decodable {
        var tickers: [String], asset: String, start: String, end: String, bars: Int
        var columns: [String: [Double?]]
        var calendar: [String: [Double?]]
        var return21Rank: [String: [Double?]]
    }

    let fixture: Fixture = try! JSONDecoder().decode(
        Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: MarketDataTests.fixture("features.json"))))

    func panel() throws -> Panel {
        var config = DataConfig()
        config.file = "data/us_stocks_20_1990_2012.csv.gz"
        config.tickers = fixture.tickers; config.start = fixture.start; config.end = fixture.end
        let p = try loadPanel(path: repoRoot + "/" + config.file, config: config).panel
        #expect(p.barCount == fixture.bars && p.observed.allSatisfy { $0 })
        return p
    }

    /// `swift` equals `pandas` wherever pandas has a value; returns how many values were compared.
    func compare(_ swift: [Double], _ pandas: [Double?], _ name: String) -> Int {
        #expect(swift.count == pandas.count, "\(name): \(swift.count) values, pandas has \(pandas.count)")
        var compared = 0
        for (t, (a, b)) in zip(swift, pandas).enumerated() {
            guard let b else {
                #expect(!a.isFinite || a == 0, "\(name) at bar \(t): \(a) where pandas has none (warm-up)")
                continue
            }
            #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(name) at bar \(t): \(a), pandas \(b)")
            compared += 1
        }
        return compared
    }

    @Test func perAssetFeaturesMatchPandas() throws {
        let p = try panel()
        let bars = FeatureMatrix.Bars(p, asset: fixture.tickers.firstIndex(of: fixture.asset)!)
        let features: [Feature] = [
            .logReturn, .range, .body, .level, .volumeZ(window: 20), .volatility(window: 20),
            .returns(horizons: [1, 21, 63, 126, 252], normalise: .volatility, span: 60),
            .macd(
                pairs: [[8, 24], [16, 48], [32, 96]], priceWindow: 63, signalWindow: 252,
                response: false),
            .rsi(window: 14), .zscore(window: 20),
        ]
        var seen: [String] = []
        for feature in features {
            for (name, column) in zip(feature.columns, FeatureMatrix.columns(feature, bars)) {
                let pandas = try #require(fixture.columns[name], "no pandas column \(name)")
                let compared = compare(column, pandas, name)
                // Every bar from the feature's warm-up on is compared (a column may start earlier: return1).
                #expect(
                    compared >= fixture.bars - FeatureConfig([feature]).warmup,
                    "\(name): \(compared) values compared")
                seen.append(name)
            }
        }
        #expect(Set(seen) == Set(fixture.columns.keys))
        #expect(seen.count == 16)
    }

    @Test func calendarMatchesPandas() throws {
        let p = try panel()
        let calendar = Feature.calendar(dayOfWeek: true, monthOfYear: true)
        let columns = FeatureMatrix.calendar(p.timestamps, dayOfWeek: true, monthOfYear: true)
        for (name, column) in zip(calendar.columns, columns) {
            #expect(compare(column, try #require(fixture.calendar[name]), name) == fixture.bars)
        }
    }

    @Test func crossSectionalRankMatchesPandas() throws {
        let config = FeatureConfig([
            .returns(horizons: [21], normalise: .volatility, span: 60),
            .crossSectionalRank(of: "return21"),
        ])
        let f = try FeatureMatrix.compute(try panel(), config: config)
        for (i, ticker) in fixture.tickers.enumerated() {
            let column = (0..<f.rows).map { Double(f[$0, i * 2 + 1]) }
            let pandas = try #require(fixture.return21Rank[ticker])
            #expect(compare(column, pandas, "\(ticker).return21Rank") == fixture.bars - 60)
        }
    }
}
