/// Bar index ranges of the three splits (half-open, into the panel's bars; empty when a split is unset).
public struct SplitRanges: Codable, Sendable, Equatable {
    /// Bars of the training years.
    public var train: Range<Int>
    /// Bars of the validation years (empty when unset).
    public var validation: Range<Int>
    /// Bars of the test years (empty when unset).
    public var test: Range<Int>

    /// Ranges as given.
    public init(train: Range<Int>, validation: Range<Int>, test: Range<Int>) {
        self.train = train; self.validation = validation; self.test = test
    }
}

/// One walk-forward window: train on `train`, then evaluate on the `test` bars that follow it.
public struct WalkForwardWindow: Codable, Sendable, Equatable {
    /// Training years, inclusive.
    public var trainYears: ClosedRange<Int>
    /// Test years, inclusive.
    public var testYears: ClosedRange<Int>
    /// Bars of the training years.
    public var train: Range<Int>
    /// Bars of the test years.
    public var test: Range<Int>
}

/// Year-based splits of a panel's calendar.
public enum Splits {
    /// Bar ranges of `config`'s train / validation / test years in `timestamps` (ascending bar times).
    ///
    /// Errors: a year range that is not `[first, last]` with first ≤ last, a split without bars, splits that overlap,
    /// or splits out of order (train must come before validation, validation before test). `train: []` is allowed only
    /// when `requireTrain` is false (evaluation with a frozen normaliser); its range is then empty.
    public static func ranges(_ config: SplitConfig, timestamps: [Int64], requireTrain: Bool = true) throws
        -> SplitRanges
    {
        let years = timestamps.map(DateParser.year)
        var named: [(name: String, years: ClosedRange<Int>)] = []
        for (name, value) in [("train", config.train), ("validation", config.validation), ("test", config.test)] {
            if value.isEmpty && (name != "train" || !requireTrain) { continue }
            guard value.count == 2, value[0] <= value[1] else {
                throw MarketDataError(
                    "DataConfig: splits.\(name) \(value) must be [first year, last year] with first <= last")
            }
            named.append((name, value[0]...value[1]))
        }
        for (a, b) in zip(named, named.dropFirst()) {
            if a.years.overlaps(b.years) {
                throw MarketDataError(
                    "DataConfig: splits '\(a.name)' (\(text(a.years))) and '\(b.name)' (\(text(b.years))) overlap")
            }
            if b.years.lowerBound < a.years.lowerBound {
                throw MarketDataError(
                    "DataConfig: split '\(b.name)' (\(text(b.years))) comes before '\(a.name)' (\(text(a.years))); "
                        + "order must be train, validation, test"
                )
            }
        }
        var result: [String: Range<Int>] = [:]
        for split in named {
            let r = try barRange(split.years, years: years, timestamps: timestamps, name: "split '\(split.name)'")
            result[split.name] = r
        }
        let end = timestamps.count
        return SplitRanges(
            train: result["train"] ?? 0..<0, validation: result["validation"] ?? end..<end,
            test: result["test"] ?? end..<end)
    }

    /// Walk-forward windows over the whole calendar: train on `trainYears` years, test on the next `testYears`,
    /// then move both by `stepYears`, as long as the test years lie inside the data. `[]` when `trainYears == 0`.
    public static func walkForward(_ config: WalkForwardConfig, timestamps: [Int64]) throws -> [WalkForwardWindow] {
        guard config.trainYears > 0 else { return [] }
        guard config.testYears > 0, config.stepYears > 0 else {
            throw MarketDataError(
                "DataConfig: walkForward testYears \(config.testYears) and stepYears "
                    + "\(config.stepYears) must be positive"
            )
        }
        guard let first = timestamps.first, let last = timestamps.last else { return [] }
        let years = timestamps.map(DateParser.year)
        let (y0, y1) = (DateParser.year(first), DateParser.year(last))
        var windows: [WalkForwardWindow] = []
        var start = y0
        while start + config.trainYears + config.testYears - 1 <= y1 {
            let trainYears = start...(start + config.trainYears - 1)
            let testYears = (trainYears.upperBound + 1)...(trainYears.upperBound + config.testYears)
            windows.append(
                WalkForwardWindow(
                    trainYears: trainYears, testYears: testYears,
                    train: try barRange(
                        trainYears, years: years, timestamps: timestamps, name: "walk-forward train years"),
                    test: try barRange(testYears, years: years, timestamps: timestamps, name: "walk-forward test years")
                ))
            start += config.stepYears
        }
        guard !windows.isEmpty else {
            throw MarketDataError(
                "DataConfig: walkForward needs \(config.trainYears + config.testYears) years but the "
                    + "data covers \(y0)–\(y1)"
            )
        }
        return windows
    }

    /// The bars whose year lies in `span` (ascending `years`); an error naming `name` if there are none.
    private static func barRange(_ span: ClosedRange<Int>, years: [Int], timestamps: [Int64], name: String) throws
        -> Range<Int>
    {
        let lower = years.firstIndex { $0 >= span.lowerBound } ?? years.count
        let upper = years.firstIndex { $0 > span.upperBound } ?? years.count
        guard lower < upper else {
            let have =
                timestamps.isEmpty
                ? "no bars" : "bars \(DateParser.format(timestamps[0]))..\(DateParser.format(timestamps.last!))"
            throw MarketDataError("DataConfig: \(name) (\(text(span))) has no bars in the data (\(have))")
        }
        return lower..<upper
    }

    private static func text(_ years: ClosedRange<Int>) -> String { "\(years.lowerBound)–\(years.upperBound)" }
}
