import Foundation

/// Per-bar features of every asset, computed causally: row t uses only bars 0...t.
///
/// `values` is (D, F) row-major with F = N·K: inside a row, asset i's K features are contiguous at `i*K ..< (i+1)*K`,
/// in the order of `FeatureMatrix.kinds`. Rows before `warmup` hold 0 where a feature is not yet defined.
public struct FeatureMatrix: Sendable, Equatable {
    /// The K features per asset, in column order: `logReturn`, `range`, `body`, `volumeZ`, `volatility`.
    public static let kinds = ["logReturn", "range", "body", "volumeZ", "volatility"]

    /// D (bars).
    public var rows: Int
    /// F = N·K columns.
    public var width: Int
    /// (D, F) row-major.
    public var values: [Float]
    /// (F) column names `TICKER.kind`, e.g. `SPY.logReturn`.
    public var names: [String]
    /// First row where every feature is defined; observations should start at or after it.
    public var warmup: Int

    /// A matrix as given; `values.count` must be `rows * width`.
    public init(rows: Int, width: Int, values: [Float], names: [String], warmup: Int) {
        precondition(values.count == rows * width && names.count == width, "FeatureMatrix holds (rows, width) values")
        self.rows = rows; self.width = width; self.values = values; self.names = names; self.warmup = warmup
    }

    /// Value at bar `row`, column `column`.
    @inlinable public subscript(row: Int, column: Int) -> Float { values[row * width + column] }

    /// Computes the features of `panel` with `config`'s windows. Per asset and bar t (c close, o open, h high, l low,
    /// v volume; std is the population standard deviation, dividing by the window length):
    /// - `logReturn` = log(c[t] / c[t-1]), 0 at t = 0;
    /// - `range` = (h[t] − l[t]) / c[t];
    /// - `body` = (c[t] − o[t]) / o[t];
    /// - `volumeZ` = (x[t] − mean) / std over x = log(1 + v) at bars t−Wv+1...t; 0 when std = 0 (defined from t = Wv−1);
    /// - `volatility` = std of logReturn at bars t−Wr+1...t (defined from t = Wr, since logReturn at t = 0 is not a return).
    /// `warmup` = max(Wv − 1, Wr). Forward-filled bars (volume 0, open = close) give logReturn 0, body 0, range 0 and
    /// a low volumeZ, which is what the agent would have seen.
    public static func compute(_ panel: Panel, config: FeatureConfig) throws -> FeatureMatrix {
        let wv = config.volumeWindow, wr = config.volatilityWindow
        guard wv >= 2, wr >= 2 else {
            throw MarketDataError("DataConfig: features.volumeWindow \(wv) and features.volatilityWindow \(wr) must be at least 2")
        }
        let n = panel.assetCount, d = panel.barCount, k = kinds.count, width = n * k
        var values = [Float](repeating: 0, count: d * width)
        var returns = [Double](repeating: 0, count: d)
        var logVolume = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for t in 0..<d {
                let cell = t * n + i
                let (o, h, l, c) = (panel.open[cell], panel.high[cell], panel.low[cell], panel.close[cell])
                returns[t] = t == 0 ? 0 : log(c / panel.close[cell - n])
                logVolume[t] = log1p(panel.volume[cell])
                var volumeZ = 0.0, volatility = 0.0
                if t >= wv - 1 {
                    let (mean, std) = meanStd(logVolume[(t - wv + 1)...t])
                    volumeZ = std > 0 ? (logVolume[t] - mean) / std : 0
                }
                if t >= wr { volatility = meanStd(returns[(t - wr + 1)...t]).std }
                let base = t * width + i * k
                values[base] = Float(returns[t])
                values[base + 1] = Float((h - l) / c)
                values[base + 2] = Float((c - o) / o)
                values[base + 3] = Float(volumeZ)
                values[base + 4] = Float(volatility)
            }
        }
        let names = panel.tickers.flatMap { ticker in kinds.map { "\(ticker).\($0)" } }
        return FeatureMatrix(rows: d, width: width, values: values, names: names, warmup: min(max(wv - 1, wr), d))
    }

    /// Mean and population standard deviation (two passes, for accuracy).
    static func meanStd(_ x: ArraySlice<Double>) -> (mean: Double, std: Double) {
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        return (mean, variance.squareRoot())
    }
}

/// Per-column standardisation fitted on training rows only, then frozen (Codable, so it is saved with a model).
public struct Normaliser: Codable, Sendable, Equatable {
    /// (F) column names the normaliser was fitted on.
    public var names: [String]
    /// (F) column means over the fitted rows.
    public var mean: [Double]
    /// (F) column population standard deviations over the fitted rows; 1 where a column is constant.
    public var std: [Double]
    /// Rows the statistics came from.
    public var fittedRows: Range<Int>

    /// Fits mean and std per column of `features` on `rows` ∩ [warmup, rows) — pass the TRAIN split's range.
    public static func fit(_ features: FeatureMatrix, rows: Range<Int>) throws -> Normaliser {
        let used = max(rows.lowerBound, features.warmup)..<min(rows.upperBound, features.rows)
        guard !used.isEmpty else {
            throw MarketDataError("Normaliser: no training rows after the feature warm-up (train bars \(rows), warmup \(features.warmup))")
        }
        let w = features.width, count = Double(used.count)
        var mean = [Double](repeating: 0, count: w), std = [Double](repeating: 0, count: w)
        for t in used { for j in 0..<w { mean[j] += Double(features.values[t * w + j]) } }
        for j in 0..<w { mean[j] /= count }
        for t in used { for j in 0..<w { let e = Double(features.values[t * w + j]) - mean[j]; std[j] += e * e } }
        for j in 0..<w { std[j] = (std[j] / count).squareRoot(); if !(std[j] > 0) { std[j] = 1 } }
        return Normaliser(names: features.names, mean: mean, std: std, fittedRows: used)
    }

    /// (x − mean) / std for every value of `features`, whose columns must be the ones this normaliser was fitted on.
    public func apply(_ features: FeatureMatrix) throws -> FeatureMatrix {
        guard features.names == names else {
            throw MarketDataError("Normaliser: fitted on \(names.count) columns (\(names.prefix(3).joined(separator: ", "))…) but the features have \(features.names.count) (\(features.names.prefix(3).joined(separator: ", "))…)")
        }
        var out = features
        let w = features.width
        for t in 0..<features.rows {
            for j in 0..<w { out.values[t * w + j] = Float((Double(features.values[t * w + j]) - mean[j]) / std[j]) }
        }
        return out
    }
}
