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
    }

    /// N
    @inlinable public var assetCount: Int { tickers.count }
    /// D
    @inlinable public var barCount: Int { timestamps.count }
}
