import Foundation

/// The running statistics the features are built from, one O(D) pass each over a series x (D), in Double. Each uses
/// pandas' definition (the same weights, bias correction and ddof) with a numerically stable one-pass update, so the
/// features agree with a pandas computation to rounding (`scripts/make_feature_fixtures.py`; the test asks for 1e-9).
/// Undefined values (before a window is full) are NaN here; the feature code turns them into the warm-up's zeros.
enum Indicators {
    /// Mean and standard deviation (`ddof` 0: population, 1: sample) over the trailing `window` values ending at each
    /// t, (D) each; NaN before t = window − 1 (pandas `rolling(window).mean()` / `.std(ddof=)`). Welford updates with a
    /// compensated mean, adding the new value before removing the old one; a window of equal values has std 0.
    static func rollingMeanStd(_ x: [Double], window: Int, ddof: Int) -> (mean: [Double], std: [Double]) {
        let d = x.count
        var mean = [Double](repeating: .nan, count: d), std = mean
        var nobs = 0.0, meanX = 0.0, ssqdm = 0.0, compensation = 0.0
        var sameCount = 0, previous = Double.nan
        func add(_ v: Double) {
            if v == previous { sameCount += 1 } else { sameCount = 1 }
            previous = v
            nobs += 1
            let previousMean = meanX - compensation
            let y = v - compensation
            let t = y - meanX
            compensation = t + meanX - y
            meanX += t / nobs
            ssqdm += (v - previousMean) * (v - meanX)
        }
        func remove(_ v: Double) {
            nobs -= 1
            guard nobs > 0 else { meanX = 0; ssqdm = 0; return }
            let previousMean = meanX - compensation
            let y = v - compensation
            let t = y - meanX
            compensation = t + meanX - y
            meanX -= t / nobs
            ssqdm -= (v - previousMean) * (v - meanX)
        }
        for t in 0..<d {
            add(x[t])
            if t >= window { remove(x[t - window]) }
            guard t >= window - 1 else { continue }
            let allEqual = sameCount >= Int(nobs)
            mean[t] = allEqual ? previous : meanX
            std[t] = allEqual || nobs == 1 ? 0 : max(ssqdm / (nobs - Double(ddof)), 0).squareRoot()
        }
        return (mean, std)
    }

    /// Exponentially weighted mean with weights (1 − α)^(t−i) over every value up to t, normalised by their sum
    /// (pandas `ewm(alpha=α, adjust=True).mean()`), (D), defined from t = 0.
    static func ewmMean(_ x: [Double], alpha: Double) -> [Double] {
        guard let first = x.first else { return [] }
        var out = [Double](repeating: 0, count: x.count)
        var weighted = first, oldWeight = 1.0
        out[0] = first
        for t in 1..<x.count {
            oldWeight *= 1 - alpha
            if weighted != x[t] { weighted = (oldWeight * weighted + x[t]) / (oldWeight + 1) }
            oldWeight += 1
            out[t] = weighted
        }
        return out
    }

    /// Exponentially weighted standard deviation with span s (α = 2/(s + 1)) and the bias correction of pandas
    /// `ewm(span=s, min_periods=minPeriods).std()`: the weighted variance Σw(x − m)²/Σw times (Σw)² / ((Σw)² − Σw²),
    /// (D), NaN before `minPeriods` values.
    static func ewmStd(_ x: [Double], span: Int, minPeriods: Int) -> [Double] {
        guard let first = x.first else { return [] }
        let alpha = 1 / (1 + (Double(span) - 1) / 2), decay = 1 - alpha
        var out = [Double](repeating: .nan, count: x.count)
        var mean = first, cov = 0.0, sumWeights = 1.0, sumSquaredWeights = 1.0, oldWeight = 1.0
        for t in 1..<x.count {
            sumWeights *= decay; sumSquaredWeights *= decay * decay; oldWeight *= decay
            let oldMean = mean, v = x[t]
            if mean != v { mean = (oldWeight * oldMean + v) / (oldWeight + 1) }
            cov = (oldWeight * (cov + (oldMean - mean) * (oldMean - mean)) + (v - mean) * (v - mean)) / (oldWeight + 1)
            sumWeights += 1; sumSquaredWeights += 1; oldWeight += 1
            guard t + 1 >= minPeriods else { continue }
            let numerator = sumWeights * sumWeights, denominator = numerator - sumSquaredWeights
            out[t] = denominator > 0 ? max(numerator / denominator * cov, 0).squareRoot() : .nan
        }
        return out
    }

    /// Wilder's relative strength index over `window` closes' changes Δ: the averages of the gains max(Δ, 0) and the
    /// losses max(−Δ, 0) start as their plain means over the first `window` changes (at t = window) and then move as
    /// a ← (a·(n − 1) + g) / n; RSI = 100·gain / (gain + loss), 50 when both are 0. (D), NaN before t = window.
    static func rsi(_ close: [Double], window n: Int) -> [Double] {
        let d = close.count
        var out = [Double](repeating: .nan, count: d)
        guard d > n else { return out }
        var gain = 0.0, loss = 0.0
        for t in 1...n {
            let change = close[t] - close[t - 1]
            gain += max(change, 0); loss += max(-change, 0)
        }
        gain /= Double(n); loss /= Double(n)
        for t in n..<d {
            if t > n {
                let change = close[t] - close[t - 1]
                gain = (gain * Double(n - 1) + max(change, 0)) / Double(n)
                loss = (loss * Double(n - 1) + max(-change, 0)) / Double(n)
            }
            out[t] = gain + loss > 0 ? 100 * gain / (gain + loss) : 50
        }
        return out
    }

    /// Average ranks (1…N, ties sharing their mean rank) of N values mapped to [−1, 1]: 2·(rank − 1)/(N − 1) − 1
    /// (pandas `rank(axis=1, method="average")`); 0 for a single value.
    static func centredRanks(_ x: [Double]) -> [Double] {
        let n = x.count
        guard n > 1 else { return [Double](repeating: 0, count: n) }
        let order = x.indices.sorted { x[$0] < x[$1] }
        var out = [Double](repeating: 0, count: n)
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && x[order[end]] == x[order[start]] { end += 1 }
            let rank = Double(start + end + 1) / 2  // mean of the 1-based ranks start+1 … end
            for k in start..<end { out[order[k]] = 2 * (rank - 1) / Double(n - 1) - 1 }
            start = end
        }
        return out
    }
}
