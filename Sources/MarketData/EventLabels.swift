/// The event a pretraining label marks, on one target series: does it rise by `up` before it falls by `down` within the
/// next `horizon` bars?
public struct EventLabelConfig: Codable, Sendable, Equatable {
    /// `basket` (the equal-weight basket of every asset), one ticker of the panel, or the name of a side series
    /// (`data.side`: its values as each bar sees them; not traded, so the basket stands in for it when the prediction
    /// is traded); `""` = the only asset of a single-asset panel, else the basket.
    public var target = ""
    /// Rise, as a fraction of the close at bar t (0.01 = +1%).
    public var up = 0.01
    /// Fall, as a fraction (0.005 = −0.5%).
    public var down = 0.005
    /// Bars after t that are looked at (t+1 … t+horizon).
    public var horizon = 10
    /// 2: 1 = up first, 0 otherwise. 3: 1 = up first, 2 = down first, 0 = neither within the horizon.
    public var classes = 2

    public init() {}

    public init(target: String = "", up: Double, down: Double, horizon: Int, classes: Int = 2) {
        self.target = target; self.up = up; self.down = down; self.horizon = horizon; self.classes = classes
    }
}

/// Event labels of every bar, from CLOSES only: at bar t with close c, the first bar j in t+1 … t+horizon whose close
/// is ≥ c·(1+up) or ≤ c·(1−down) decides the class (up first / down first); none → neither. Closes are used (not highs
/// and lows) because the order of an intrabar high and low is unknown, and a basket has no common intrabar path; with
/// up, down > 0 one close cannot cross both barriers, so the ordering is exact.
///
/// Labels never leak across a split boundary: `labelledBars(in:)` drops the last `horizon` bars of a split, so every
/// close a label reads lies inside the split.
public struct EventLabels: Sendable, Equatable {
    /// The configuration the labels were made with.
    public var config: EventLabelConfig
    /// (D) the class of each bar; −1 where the horizon runs past the last bar of the data.
    public var values: [Int]
    /// The target series (D): the ticker's closes, the side series' values as each bar sees them, or the basket's
    /// value (1 at bar 0, then compounding the mean of the assets' simple close-to-close returns).
    public var series: [Double]
    /// (N) the weight of each asset in the target (1 on the ticker, or 1/N each for the basket and a side series): what
    /// "trading the prediction" holds.
    public var weights: [Double]

    /// Labels of `panel`'s bars (with the `side` series a target may name); errors name the key (`labels.up`, …) and
    /// are one line.
    public static func compute(_ panel: Panel, side: [SideSeries] = [], config: EventLabelConfig) throws
        -> EventLabels
    {
        guard config.up > 0, config.down > 0, config.up.isFinite, config.down.isFinite else {
            throw MarketDataError(
                "labels: up \(config.up) and down \(config.down) must be positive fractions (0.01 = 1%)")
        }
        guard config.down < 1 else { throw MarketDataError("labels: down \(config.down) must be below 1 (a fraction)") }
        guard config.horizon >= 1 else {
            throw MarketDataError("labels: horizon \(config.horizon) must be at least 1 bar")
        }
        guard config.classes == 2 || config.classes == 3 else {
            throw MarketDataError("labels: classes \(config.classes) must be 2 or 3")
        }
        let n = panel.assetCount, d = panel.barCount
        var weights = [Double](repeating: 0, count: n)
        var series = [Double](repeating: 0, count: d)
        let target = config.target.isEmpty ? (n == 1 ? panel.tickers[0] : "basket") : config.target
        if let other = side.first(where: { $0.name == target }) {
            for i in 0..<n { weights[i] = 1 / Double(n) }
            series = other.values(at: panel.timestamps)
            if let t = series.firstIndex(where: \.isNaN) {
                let date = DateParser.format(panel.timestamps[t])
                throw MarketDataError(
                    "labels: target '\(target)' has no value at \(date) (the side series starts "
                        + "later); a target needs a value at every bar")
            }
        } else if target == "basket" {
            for i in 0..<n { weights[i] = 1 / Double(n) }
            var level = 1.0
            for t in 0..<d {
                if t > 0 {
                    var r = 0.0
                    for i in 0..<n { r += panel.close[t * n + i] / panel.close[(t - 1) * n + i] - 1 }
                    level *= 1 + r / Double(n)
                }
                series[t] = level
            }
        } else {
            guard let i = panel.tickers.firstIndex(of: target) else {
                let sides = side.isEmpty ? "" : "; side series: \(side.map(\.name).joined(separator: ", "))"
                let tickers = panel.tickers.prefix(8).joined(separator: ", ") + (n > 8 ? ", …" : "")
                throw MarketDataError(
                    "labels: target '\(target)' is not 'basket' nor a ticker of the data (\(tickers)\(sides))")
            }
            weights[i] = 1
            for t in 0..<d { series[t] = panel.close[t * n + i] }
        }
        return EventLabels(config: config, values: label(series, config: config), series: series, weights: weights)
    }

    /// The class of every bar of `series` (D); −1 where t + horizon ≥ D.
    public static func label(_ series: [Double], config: EventLabelConfig) -> [Int] {
        let d = series.count, h = config.horizon
        var out = [Int](repeating: -1, count: d)
        for t in 0..<d where t + h < d {
            let upper = series[t] * (1 + config.up), lower = series[t] * (1 - config.down)
            var label = 0
            for j in (t + 1)...(t + h) {
                if series[j] >= upper { label = 1; break }
                if series[j] <= lower { label = config.classes == 3 ? 2 : 0; break }
            }
            out[t] = label
        }
        return out
    }

    /// The bars of `split` whose label reads only bars of the split: `split.lowerBound ..< split.upperBound − horizon`.
    public func labelledBars(in split: Range<Int>) -> Range<Int> {
        split.lowerBound..<max(split.lowerBound, split.upperBound - config.horizon)
    }
}
