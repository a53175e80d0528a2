/// What to do with a row that breaks a price rule (non-finite/non-positive price, high/low outside open/close,
/// bad volume, repeated or out-of-order date).
public enum RepairPolicy: String, Codable, Sendable, CaseIterable {
    /// Stop with an error naming file, row and column.
    case error
    /// Drop the row and count it in the load report.
    case drop
    /// Raise `high` to max(open, close) / lower `low` to min(open, close) and count the row as repaired; rows whose
    /// prices are non-positive or non-finite, whose volume is bad, or whose date is out of order are dropped instead.
    case clamp
}

/// What to do with assets of a multi-asset file that start after the first date or end before the last date.
public enum LateAssetPolicy: String, Codable, Sendable, CaseIterable {
    /// Drop assets that start after the first date (they are listed in the load report); the calendar is the union
    /// of the remaining assets' dates. An asset whose rows end before the last date is an error: leaving it out would
    /// choose every bar's panel with rows after that bar (survivorship bias). Dropping more than half of the assets
    /// is an error too (a stray row is likelier than such a panel being meant).
    case drop
    /// Keep every asset and cut the calendar to the span all assets cover.
    case trim
}

/// Year ranges of the train / validation / test splits, each `[first, last]` inclusive (`[]` = no such split).
public struct SplitConfig: Codable, Sendable, Equatable {
    /// Years the agent learns on and the normaliser is fitted on, `[first, last]`.
    public var train: [Int] = [1999, 2010]
    /// Years used for model selection, `[first, last]` (`[]` = none).
    public var validation: [Int] = [2011, 2012]
    /// Held-out years, never used for tuning, `[first, last]` (`[]` = none).
    public var test: [Int] = [2013, 2018]

    /// The S&P 500 defaults: train 1999–2010, validation 2011–2012, test 2013–2018.
    public init() {}

    /// Splits with the given year ranges.
    public init(train: [Int], validation: [Int], test: [Int]) {
        self.train = train; self.validation = validation; self.test = test
    }
}

/// Walk-forward evaluation windows: train on `trainYears`, test on the next `testYears`, move on by `stepYears`.
public struct WalkForwardConfig: Codable, Sendable, Equatable {
    /// Years in each training window (0 = no walk-forward windows).
    public var trainYears = 0
    /// Years in each test window following its training window.
    public var testYears = 1
    /// Years between the starts of consecutive windows.
    public var stepYears = 1

    /// Walk-forward off.
    public init() {}

    /// Windows of the given lengths.
    public init(trainYears: Int, testYears: Int, stepYears: Int) {
        self.trainYears = trainYears; self.testYears = testYears; self.stepYears = stepYears
    }
}

/// Everything needed to turn a CSV file into a validated panel, split ranges and normalised features.
///
/// No Optionals: `""` and `[]` mean "unset". Enums encode as their raw strings. YAML keys equal property names.
public struct DataConfig: Codable, Sendable, Equatable {
    /// CSV or `.csv.gz` file, relative to the base directory passed to `loadMarket` (absolute paths are kept).
    public var file = "data/sp500_1999_2018_arch.csv"
    /// Date layout: `""` (detect from the first row), `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, `M/D/YYYY`, `DD.MM.YYYY
    /// HH:MM:SS.000`.
    public var dateFormat = DateFormat.auto
    /// Scale open/high/low/close by adjClose/close when the file has an adj close column (volume is left as it is).
    public var adjustPrices = true
    /// What to do with rows that break a price rule: `error`, `drop` or `clamp`.
    public var repair = RepairPolicy.error
    /// Longest run of missing bars of one asset that is forward-filled; a longer gap is an error.
    public var maxGapFill = 5
    /// Assets that start late or end early: `drop` them or `trim` the calendar.
    public var lateAssets = LateAssetPolicy.drop
    /// Tickers to keep, in this order (`[]` = all assets in the file, in order of first appearance).
    public var tickers: [String] = []
    /// First date kept, ISO `YYYY-MM-DD` (`""` = from the start of the file).
    public var start = ""
    /// Last date kept (inclusive), ISO `YYYY-MM-DD` (`""` = to the end of the file).
    public var end = ""
    /// Train / validation / test year ranges.
    public var splits = SplitConfig()
    /// Walk-forward windows (off while `walkForward.trainYears` is 0).
    public var walkForward = WalkForwardConfig()
    /// The features of every asset, in column order (`FeatureConfig`; omitted: the original five).
    public var features = FeatureConfig()
    /// Coarser time frames whose features are appended to every bar's (`[weekly, monthly]` for daily files,
    /// `[daily]` for hourly ones); each period is visible from the first bar after its last bar (`Timeframes`).
    public var timeframes: [Timeframe] = []
    /// Market-wide series beside the assets, not traded (`SideSeriesConfig`): their features follow every bar's.
    public var side: [SideSeriesConfig] = []
    /// Bars a year, to annualise returns, volatility and Sharpe ratios; 0 (default): from the bars' spacing
    /// (`barsPerYear(timestamps:)`: 252 for daily bars, 52 weekly, 12 monthly, 252 × the bars of a day within a day).
    public var barsPerYear = 0.0

    /// The single-asset S&P 500 default (`data/sp500_1999_2018_arch.csv`).
    public init() {}
}
