import Foundation
import Testing

@testable import MarketData

struct ConfigTests {
    @Test func defaultsEncodeWithRawEnumStringsAndRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(DataConfig()), as: UTF8.self)
        #expect(
            json.contains(#""repair":"error""#) && json.contains(#""lateAssets":"drop""#)
                && json.contains(#""dateFormat":"""#))
        #expect(json.contains(#""file":"data\/sp500_1999_2018_arch.csv""#) && json.contains(#""maxGapFill":5"#))
        #expect(json.contains(#""train":[1999,2010]"#) && json.contains(#""volumeWindow":20"#))
        var changed = DataConfig()
        changed.repair = .clamp; changed.dateFormat = .dayMonthYearTime; changed.tickers = ["A"];
        changed.lateAssets = .trim
        #expect(try JSONDecoder().decode(DataConfig.self, from: encoder.encode(changed)) == changed)
    }

    @Test func unknownEnumValueIsRejected() throws {
        let json = String(decoding: try! JSONEncoder().encode(DataConfig()), as: UTF8.self)
            .replacingOccurrences(of: #""repair":"error""#, with: #""repair":"fix""#)
        do {
            _ = try JSONDecoder().decode(DataConfig.self, from: Data(json.utf8))
            Issue.record("repair 'fix' decoded")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.codingPath.map(\.stringValue) == ["repair"])
        }
    }

    @Test func badStartDateAndRelativePath() throws {
        var config = DataConfig()
        config.start = "1999/01/01"
        #expect(throws: MarketDataError("DataConfig: start '1999/01/01' is not an ISO date YYYY-MM-DD")) {
            try loadMarket(config, baseDirectory: repoRoot)
        }
        config.start = "2005-01-01"; config.end = "2012-12-31"
        config.splits = SplitConfig(train: [2005, 2010], validation: [2011, 2012], test: [])
        let m = try loadMarket(config, baseDirectory: repoRoot)
        #expect(m.panel.timestamps.first == day("2005-01-03") && m.panel.timestamps.last == day("2012-12-31"))
        #expect(m.splits.test.isEmpty && m.splits.validation.upperBound == m.panel.barCount)
    }
}
