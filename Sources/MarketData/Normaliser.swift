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

    /// Fits mean and std per column of `features` on `rows` ∩ [warmup, rows) — pass the TRAIN split's range. The
    /// `observed` mask's columns (`TICKER.observed`) keep mean 0 and std 1, so they pass as they are: standardised, a
    /// rare gap (39 of the 20-stock panel's 115,940 cells) would reach the agent tens of standard deviations out.
    public static func fit(_ features: FeatureMatrix, rows: Range<Int>) throws -> Normaliser {
        let first = max(rows.lowerBound, features.warmup), end = min(rows.upperBound, features.rows)
        guard first < end else {
            throw MarketDataError(
                "Normaliser: no training rows after the feature warm-up (train bars \(rows), warmup \(features.warmup))"
            )
        }
        let used = first..<end, w = features.width, count = Double(used.count)
        var mean = [Double](repeating: 0, count: w), std = [Double](repeating: 0, count: w)
        for t in used { for j in 0..<w { mean[j] += Double(features.values[t * w + j]) } }
        for j in 0..<w { mean[j] /= count }
        for t in used { for j in 0..<w { let e = Double(features.values[t * w + j]) - mean[j]; std[j] += e * e } }
        for j in 0..<w { std[j] = (std[j] / count).squareRoot(); if !(std[j] > 0) { std[j] = 1 } }
        for j in 0..<w where features.names[j].hasSuffix("." + Feature.observed.name) { (mean[j], std[j]) = (0, 1) }
        return Normaliser(names: features.names, mean: mean, std: std, fittedRows: used)
    }

    /// (x − mean) / std for every value of `features`, whose columns must be the ones this normaliser was fitted on.
    public func apply(_ features: FeatureMatrix) throws -> FeatureMatrix {
        guard features.names == names else {
            throw MarketDataError(
                "Normaliser: fitted on \(names.count) columns (\(names.prefix(3).joined(separator: ", "))…) but the "
                    + "features have \(features.names.count) (\(features.names.prefix(3).joined(separator: ", "))…)"
            )
        }
        var out = features
        let w = features.width
        for t in 0..<features.rows {
            for j in 0..<w { out.values[t * w + j] = Float((Double(features.values[t * w + j]) - mean[j]) / std[j]) }
        }
        return out
    }
}
