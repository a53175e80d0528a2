import Foundation

/// Per-bar features of every asset, computed causally: row t uses only bars 0...t.
///
/// `values` is (D, F) row-major. `compute` gives F = N·K + M: inside a row, asset i's K columns are contiguous at
/// `i*K ..< (i+1)*K` in the order of `FeatureConfig.assetColumns`, then come the M market-wide (calendar) columns.
/// Coarser time frames (`Timeframes`) and side series (`SideSeries`) append their blocks after those. Rows before
/// `warmup` hold 0 where a feature is not yet defined (never a later value: that would be look-ahead).
public struct FeatureMatrix: Sendable, Equatable {
    /// D (bars).
    public var rows: Int
    /// F columns.
    public var width: Int
    /// (D, F) row-major.
    public var values: [Float]
    /// (F) column names `TICKER.column` (e.g. `SPY.logReturn`, `SPY.return21`), `calendar.monthSin`, `VIX.level`.
    public var names: [String]
    /// First row where every feature is defined; observations should start at or after it.
    public var warmup: Int
    /// What sets the warm-up: bars per feature name (`returns`, `macd`), coarser time frame (`weekly`) and side series
    /// (`VIX`), for `tradesim check-env`.
    public var warmups: [String: Int]

    /// A matrix as given; `values.count` must be `rows * width`.
    public init(rows: Int, width: Int, values: [Float], names: [String], warmup: Int, warmups: [String: Int] = [:]) {
        precondition(values.count == rows * width && names.count == width, "FeatureMatrix holds (rows, width) values")
        self.rows = rows; self.width = width; self.values = values; self.names = names; self.warmup = warmup
        self.warmups = warmups
    }

    /// Value at bar `row`, column `column`.
    @inlinable public subscript(row: Int, column: Int) -> Float { values[row * width + column] }

    /// Computes `config`'s features of `panel`. Per asset and bar t (c close, o open, h high, l low, v volume; std
    /// is the population standard deviation unless it says sample; "from t = k": rows before k hold 0):
    /// - `logReturn` = log(c[t] / c[t−1]), 0 at t = 0;
    /// - `range` = (h[t] − l[t]) / c[t]; `body` = (c[t] − o[t]) / o[t]; `level` = c[t];
    /// - `volumeZ` (window W) = (x[t] − mean) / std over x = log(1 + v) at bars t−W+1...t; 0 when std = 0; from
    ///   t = W−1;
    /// - `volatility` (W) = std of logReturn at bars t−W+1...t; from t = W (logReturn at t = 0 is not a return);
    /// - `returns` (horizons, span s) = r(t−h, t) / (σ_t·√h) per horizon h, r(t−h, t) = c[t] / c[t−h] − 1 and σ_t the
    ///   bias-corrected exponentially weighted std (α = 2/(s + 1), pandas `ewm(span=s, min_periods=s).std()`) of the
    ///   simple returns c[u]/c[u−1] − 1 for u = 1...t; from t = max(h, s); 0 where σ_t = 0. `normalise: none` gives
    ///   r(t−h, t) from t = h. (Lim, Zohren & Roberts 2019; Zhang, Zohren & Roberts 2019.)
    /// - `macd` (pairs (S, L), P = priceWindow, Q = signalWindow) per pair: m = EWM_S(c) − EWM_L(c), adjusted
    ///   exponentially weighted means with α = 1/S and 1/L (half-life ln 0.5 / ln(1 − 1/S)); q = m / (sample std of
    ///   c over the last P bars); y = q / (sample std of q over the last Q bars); from t = P − 1 + Q − 1; 0 where a std
    ///   is 0; `response: true` gives y·exp(−y²/4) / 0.89 (Baz et al. 2015);
    /// - `rsi` (n): Wilder's, 100·G / (G + L) with G, L the smoothed gains and losses (`Indicators.rsi`); from t = n;
    /// - `zscore` (W) = (c[t] − mean) / std over c at bars t−W+1...t; 0 when std = 0; from t = W−1;
    /// - `crossSectionalRank` (of) = the asset's average rank (1...N) of column `of` among the N assets at bar t,
    ///   mapped to 2·(rank − 1)/(N − 1) − 1 in [−1, 1] (0 with one asset); defined when `of` is;
    /// - `observed` = 1 where the asset has a bar of its own at t, 0 where the alignment carried its previous close
    ///   forward (`Panel.observed`); on a coarser time frame, 1 where any bar of the period is the asset's own;
    /// - `calendar` (market-wide) = sin and cos of 2π·d/7 for the weekday d (Monday 0) and of 2π·(m − 1)/12 for the
    ///   month m, from the bar's date (UTC).
    /// `warmup` = the largest "from" (capped at D). Forward-filled bars (volume 0, open = close) give logReturn 0,
    /// body 0, range 0 and a low volumeZ, which is what the agent would have seen; `observed` tells it so.
    public static func compute(_ panel: Panel, config: FeatureConfig) throws -> FeatureMatrix {
        try config.validate("DataConfig: features")
        let n = panel.assetCount, d = panel.barCount
        let kinds = config.assetColumns, k = kinds.count, market = config.marketColumns
        let width = n * k + market.count
        var values = [Float](repeating: 0, count: d * width)
        func store(_ x: [Double], column: Int) {
            for t in 0..<d where x[t].isFinite { values[t * width + column] = Float(x[t]) }
        }
        var rankColumns: [(column: Int, of: String)] = []
        var offset = 0
        for feature in config.list where !feature.isMarketWide {
            if case .crossSectionalRank(let of) = feature { rankColumns.append((offset, of)) }
            offset += feature.columns.count
        }
        var ranked: [String: [[Double]]] = [:]  // a ranked column → (N) its values per asset
        for i in 0..<n {
            let bars = Bars(panel, asset: i)
            var column = 0
            for feature in config.list where !feature.isMarketWide {
                if case .crossSectionalRank = feature { column += 1; continue }
                for x in columns(feature, bars) {
                    store(x, column: i * k + column)
                    if rankColumns.contains(where: { $0.of == kinds[column] }) {
                        ranked[kinds[column], default: []].append(x)
                    }
                    column += 1
                }
            }
        }
        for (column, of) in rankColumns {
            let x = ranked[of] ?? []
            var ranks = [[Double]](repeating: [Double](repeating: 0, count: d), count: n)
            for t in 0..<d {
                let r = Indicators.centredRanks(x.map { $0[t].isFinite ? $0[t] : 0 })
                for i in 0..<n { ranks[i][t] = r[i] }
            }
            for i in 0..<n { store(ranks[i], column: i * k + column) }
        }
        for case .calendar(let dayOfWeek, let monthOfYear) in config.list {
            let columns = calendar(panel.timestamps, dayOfWeek: dayOfWeek, monthOfYear: monthOfYear)
            for (j, x) in columns.enumerated() { store(x, column: n * k + j) }
        }
        let names = panel.tickers.flatMap { ticker in kinds.map { "\(ticker).\($0)" } } + market
        let warmups = Dictionary(config.warmups.map { ($0.feature, $0.bars) }, uniquingKeysWith: max)
        return FeatureMatrix(
            rows: d, width: width, values: values, names: names, warmup: min(config.warmup, d),
            warmups: warmups)
    }

    /// One asset's bars (D each), in Double.
    struct Bars {
        var open: [Double], high: [Double], low: [Double], close: [Double], volume: [Double]
        /// Whether each bar is the asset's own (`Panel.observed`); every bar when not given (tests).
        var observed: [Bool]

        init(
            open: [Double], high: [Double], low: [Double], close: [Double], volume: [Double], observed: [Bool]? = nil
        ) {
            self.open = open; self.high = high; self.low = low; self.close = close; self.volume = volume
            self.observed = observed ?? [Bool](repeating: true, count: close.count)
        }

        /// Asset `i` of `panel`.
        init(_ panel: Panel, asset i: Int) {
            let n = panel.assetCount
            func column<T>(_ x: [T]) -> [T] { stride(from: i, to: x.count, by: n).map { x[$0] } }
            self.init(
                open: column(panel.open), high: column(panel.high), low: column(panel.low),
                close: column(panel.close), volume: column(panel.volume), observed: column(panel.observed))
        }
    }

    /// The columns of one per-asset feature (`feature.columns`, D values each; NaN where undefined, stored as 0).
    /// `crossSectionalRank` and `calendar` are not per asset (see `compute`).
    static func columns(_ feature: Feature, _ bars: Bars) -> [[Double]] {
        let c = bars.close, d = c.count
        func series(from start: Int, _ value: (Int) -> Double) -> [Double] {
            (0..<d).map { $0 >= start ? value($0) : .nan }
        }
        switch feature {
        case .logReturn: return [logReturns(c)]
        case .range: return [(0..<d).map { (bars.high[$0] - bars.low[$0]) / c[$0] }]
        case .body: return [(0..<d).map { (c[$0] - bars.open[$0]) / bars.open[$0] }]
        case .level: return [c]
        case .observed: return [bars.observed.map { $0 ? 1 : 0 }]
        case .volumeZ(let w):
            let x = bars.volume.map { log1p($0) }
            return [
                series(from: w - 1) { t in
                    let (mean, std) = meanStd(x[(t - w + 1)...t])
                    return std > 0 ? (x[t] - mean) / std : 0
                }
            ]
        case .volatility(let w):
            let r = logReturns(c)
            return [series(from: w) { t in meanStd(r[(t - w + 1)...t]).std }]
        case .returns(let horizons, let normalise, let span):
            let simple = (1..<max(d, 1)).map { c[$0] / c[$0 - 1] - 1 }
            let sigma = [Double.nan] + Indicators.ewmStd(simple, span: span, minPeriods: span)
            return horizons.map { h in
                series(from: h) { t in
                    let r = c[t] / c[t - h] - 1
                    guard normalise == .volatility else { return r }
                    return sigma[t] > 0 ? r / (sigma[t] * Double(h).squareRoot()) : (sigma[t].isNaN ? .nan : 0)
                }
            }
        case .macd(let pairs, let p, let q, let response):
            let priceStd = Indicators.rollingMeanStd(c, window: p, ddof: 1).std
            return pairs.map { pair in
                let short = Indicators.ewmMean(c, alpha: 1 / Double(pair[0]))
                let long = Indicators.ewmMean(c, alpha: 1 / Double(pair[1]))
                let signal = (min(p - 1, d)..<d).map { t in priceStd[t] > 0 ? (short[t] - long[t]) / priceStd[t] : 0 }
                let signalStd = Indicators.rollingMeanStd(signal, window: q, ddof: 1).std
                return series(from: p - 1 + q - 1) { t in
                    let s = signalStd[t - p + 1]
                    let y = s > 0 ? signal[t - p + 1] / s : 0
                    return response ? y * exp(-y * y / 4) / 0.89 : y
                }
            }
        case .rsi(let n): return [Indicators.rsi(c, window: n)]
        case .zscore(let w):
            let (mean, std) = Indicators.rollingMeanStd(c, window: w, ddof: 0)
            return [series(from: w - 1) { t in std[t] > 0 ? (c[t] - mean[t]) / std[t] : 0 }]
        case .calendar, .crossSectionalRank: return []
        }
    }

    /// log(c[t] / c[t−1]), 0 at t = 0.
    static func logReturns(_ c: [Double]) -> [Double] { c.indices.map { $0 == 0 ? 0 : log(c[$0] / c[$0 - 1]) } }

    /// The calendar's columns for bar times `timestamps` (D each): weekday sin, cos; month sin, cos (as asked).
    static func calendar(_ timestamps: [Int64], dayOfWeek: Bool, monthOfYear: Bool) -> [[Double]] {
        let days = timestamps.map { DateParser.floorDiv($0, 86_400) }
        var out: [[Double]] = []
        if dayOfWeek {
            // 1970-01-01 was a Thursday (weekday 3 with Monday 0).
            let angle = days.map { 2 * Double.pi * Double((($0 + 3) % 7 + 7) % 7) / 7 }
            out += [angle.map { sin($0) }, angle.map { cos($0) }]
        }
        if monthOfYear {
            let angle = days.map { 2 * Double.pi * Double(DateParser.civil(fromDays: $0).month - 1) / 12 }
            out += [angle.map { sin($0) }, angle.map { cos($0) }]
        }
        return out
    }

    /// Mean and population standard deviation (two passes, for accuracy; the windows of `volumeZ` and `volatility`,
    /// kept as they were so their values stay bit-identical).
    static func meanStd(_ x: ArraySlice<Double>) -> (mean: Double, std: Double) {
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        return (mean, variance.squareRoot())
    }

    /// The rows of this matrix as seen from the D rows of another calendar: row t is row `rowOf[t]` (all 0 where it is
    /// −1: nothing visible yet). `warmup` becomes the first t whose visible row is past this matrix's warm-up.
    func expanded(_ rowOf: [Int]) -> FeatureMatrix {
        let d = rowOf.count
        var out = [Float](repeating: 0, count: d * width)
        for t in 0..<d where rowOf[t] >= 0 {
            let source = rowOf[t] * width
            for j in 0..<width { out[t * width + j] = values[source + j] }
        }
        let ready = rowOf.firstIndex { $0 >= warmup } ?? d
        return FeatureMatrix(rows: d, width: width, values: out, names: names, warmup: ready, warmups: warmups)
    }

    /// Matrices of the same rows side by side, in order; the warm-up is the latest of theirs.
    static func concatenated(_ blocks: [FeatureMatrix]) -> FeatureMatrix {
        guard let rows = blocks.first?.rows, blocks.count > 1 else { return blocks[0] }
        let width = blocks.reduce(0) { $0 + $1.width }
        var values = [Float](repeating: 0, count: rows * width)
        var column = 0
        for m in blocks {
            for t in 0..<rows {
                for j in 0..<m.width { values[t * width + column + j] = m.values[t * m.width + j] }
            }
            column += m.width
        }
        return FeatureMatrix(
            rows: rows, width: width, values: values, names: blocks.flatMap(\.names),
            warmup: blocks.map(\.warmup).max()!,
            warmups: blocks.reduce(into: [:]) { $0.merge($1.warmups, uniquingKeysWith: max) })
    }
}
