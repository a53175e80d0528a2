import RLCore
import Testing

@testable import MarketData

/// A long panel loads date-major whatever the file's row order: cell d·N + i holds ticker i's bar on date d.
struct PanelTests {
    static let tickers = ["AAA", "BBB", "CCC"]
    static let days = 6

    /// Ticker k's bar on day d, distinct in every cell: open, high, low, close, volume.
    static func bar(_ k: Int, _ d: Int) -> [Double] {
        let c = Double(100 * (k + 1) + d)
        return [c - 0.5, c + 1, c - 1, c, Double(1_000 * k + d)]
    }

    static func date(_ d: Int) -> Int64 { day("2020-01-01") + Int64(d) * 86_400 }

    /// Every ticker's rows in date order (newest first if asked), the tickers interleaved at random; columns
    /// `Date,Ticker,…` or `Ticker,Date,…`.
    static func file(seed: UInt64, tickerFirst: Bool, newestFirst: Bool) -> String {
        var rng = Xoshiro256(seed: seed)
        var lines = [(tickerFirst ? "Ticker,Date" : "Date,Ticker") + ",Open,High,Low,Close,Volume"]
        var written = [Int](repeating: 0, count: tickers.count)
        while let k = tickers.indices.filter({ written[$0] < days }).randomElement(using: &rng) {
            let d = newestFirst ? days - 1 - written[k] : written[k]
            let (t, when) = (tickers[k], DateParser.format(date(d)))
            let prices = bar(k, d).map { "\($0)" }.joined(separator: ",")
            lines.append((tickerFirst ? "\(t),\(when)," : "\(when),\(t),") + prices)
            written[k] += 1
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test(
        arguments: [(1, false, false), (2, true, false), (3, false, true), (4, true, true)] as [(UInt64, Bool, Bool)])
    func everyRowOrderGivesTheDateMajorPanel(seed: UInt64, tickerFirst: Bool, newestFirst: Bool) throws {
        let path = writeTemp("p.csv", Self.file(seed: seed, tickerFirst: tickerFirst, newestFirst: newestFirst))
        let (p, r) = try load(path)
        #expect(Set(p.tickers) == Set(Self.tickers) && r.rowsRead == Self.tickers.count * Self.days)
        #expect(p.timestamps == (0..<Self.days).map(Self.date))
        #expect(p.observed.allSatisfy { $0 } && r.filledCells == 0 && r.rowsDropped == 0)
        for d in 0..<Self.days {
            for (i, t) in p.tickers.enumerated() {
                let cell = d * p.assetCount + i
                #expect(
                    [p.open[cell], p.high[cell], p.low[cell], p.close[cell], p.volume[cell]]
                        == Self.bar(Self.tickers.firstIndex(of: t)!, d), "\(t) on day \(d)")
            }
        }
        // Selected tickers come in the config's order, whatever the file's.
        let (some, _) = try load(path) { $0.tickers = ["CCC", "AAA"] }
        #expect(some.tickers == ["CCC", "AAA"])
        #expect(some.close == (0..<Self.days).flatMap { [Self.bar(2, $0)[3], Self.bar(0, $0)[3]] })
    }
}
