/// N assets × D bars on one calendar, every price finite and positive.
///
/// Storage is date-major: the value of asset `i` at bar `d` is `close[d * assetCount + i]`, so one bar of the whole
/// market is a contiguous row of N values. A single series is a panel with N = 1.
public struct Panel: Sendable, Equatable {
    /// Where the bars came from (the file path as given), for error messages and summaries.
    public var source: String
    /// Asset names (N). A single-series file without a ticker column gets the file's base name.
    public var tickers: [String]
    /// Bar open times (D), seconds since 1970-01-01 UTC, strictly increasing.
    public var timestamps: [Int64]
    /// (D, N) prices and volume.
    public var open: [Double]
    public var high: [Double]
    public var low: [Double]
    public var close: [Double]
    public var volume: [Double]
    /// (D, N) true where the bar was read from the file; false where it was forward-filled across a gap.
    public var observed: [Bool]
    /// Bars a year, to annualise returns, volatility and Sharpe ratios: `barsPerYear(timestamps:)`, or the data
    /// config's `barsPerYear` when it sets one.
    public var barsPerYear: Double

    public init(
        source: String, tickers: [String], timestamps: [Int64], open: [Double], high: [Double], low: [Double],
        close: [Double], volume: [Double], observed: [Bool]
    ) {
        let cells = tickers.count * timestamps.count
        precondition(
            [open.count, high.count, low.count, close.count, volume.count, observed.count].allSatisfy { $0 == cells },
            "Panel arrays must hold D × N values")
        self.source = source
        self.tickers = tickers
        self.timestamps = timestamps
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.observed = observed
        barsPerYear = MarketData.barsPerYear(timestamps: timestamps)
    }

    /// N
    @inlinable public var assetCount: Int { tickers.count }
    /// D
    @inlinable public var barCount: Int { timestamps.count }
}

/// Bars a year of a series with these (increasing) timestamps, by the median spacing of consecutive bars: 12 for
/// monthly bars (≥ 20 days apart), 52 for weekly (≥ 5 days), 252 trading days for daily (≥ 20 hours), and for bars
/// within a day 252 × the median number of bars of a calendar day (UTC) that has bars (6,048 for round-the-clock
/// hourly bars, 1,764 for seven hourly bars a trading day). 252 for fewer than two bars.
public func barsPerYear(timestamps: [Int64]) -> Double {
    guard timestamps.count >= 2 else { return 252 }
    let spacing = median(zip(timestamps.dropFirst(), timestamps).map { $0 - $1 })
    let day: Int64 = 86_400
    if spacing >= 20 * day { return 12 }
    if spacing >= 5 * day { return 52 }
    if spacing >= 20 * 3_600 { return 252 }
    var perDay: [Int64: Int64] = [:]
    for t in timestamps { perDay[t >= 0 ? t / day : (t - day + 1) / day, default: 0] += 1 }
    return 252 * Double(median(Array(perDay.values)))
}

/// The middle value of `values` (the lower of the two middle ones for an even count); `values` is not empty.
private func median(_ values: [Int64]) -> Int64 { values.sorted()[(values.count - 1) / 2] }
