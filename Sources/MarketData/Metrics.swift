import Foundation

/// Performance metrics of a series of per-bar simple returns, with the conventions of empyrical / quantstats:
/// P periods a year (252 for daily bars), arithmetic returns, sample standard deviation (ddof = 1), zero risk-free rate
/// unless given. Ratios that are undefined (no variance, no drawdown, no losing bar) are `nil` (JSON null).
public struct PerformanceMetrics: Codable, Sendable, Equatable {
    /// n: number of returns.
    public var bars: Int
    /// ∏(1 + rₜ) − 1.
    public var totalReturn: Double
    /// CAGR: ∏(1 + rₜ)^(P/n) − 1.
    public var annualReturn: Double
    /// std(r, ddof = 1)·√P.
    public var annualVolatility: Double
    /// mean(r − rf) / std(r − rf, ddof = 1)·√P.
    public var sharpe: Double?
    /// mean(r − rf)·P / (√mean(min(r − rf, 0)²)·√P), the mean of squares over all n bars.
    public var sortino: Double?
    /// min over t of Wₜ / max_{s≤t} Wₛ − 1 with W = cumprod(1 + r) and W₀ = 1 (≤ 0).
    public var maxDrawdown: Double
    /// The longest stretch, in bars, spent below a previous peak of W (to recovery, or to the end).
    public var maxDrawdownBars: Int
    /// annualReturn / |maxDrawdown|.
    public var calmar: Double?
    /// Bars with r > 0 over bars with r ≠ 0 (quantstats' win rate).
    public var hitRate: Double?
    /// Mean of the positive returns.
    public var averageWin: Double?
    /// Mean of the negative returns (< 0).
    public var averageLoss: Double?
    /// Per-bar Sharpe ŜR = mean / std (not annualised): the input of PSR and DSR.
    public var sharpePerBar: Double?
    /// Skewness γ₃ = m₃ / m₂^{3/2} (population moments).
    public var skewness: Double?
    /// Raw kurtosis γ₄ = m₄ / m₂² (3 for a normal law).
    public var kurtosis: Double?
    /// Probabilistic Sharpe Ratio against SR* = 0 (Bailey & López de Prado 2012).
    public var psr: Double?

    /// Computes every metric of `returns` with `periods` bars a year and a per-bar risk-free rate `riskFree`.
    public init(returns r: [Double], periods: Double, riskFree: Double = 0) {
        let n = r.count
        bars = n
        var growth = 1.0, peak = 1.0, drawdown = 0.0
        var under = 0, longest = 0
        for x in r {
            growth *= 1 + x
            if growth >= peak { peak = growth; under = 0 } else { under += 1; longest = max(longest, under) }
            drawdown = min(drawdown, growth / peak - 1)
        }
        totalReturn = growth - 1
        annualReturn = n > 0 ? pow(growth, periods / Double(n)) - 1 : 0
        maxDrawdown = drawdown
        maxDrawdownBars = longest
        calmar = drawdown < 0 ? annualReturn / abs(drawdown) : nil

        let excess = r.map { $0 - riskFree }
        let mean = Self.mean(excess)
        let sd = Self.sampleStd(excess)
        annualVolatility = (Self.sampleStd(r) ?? 0) * periods.squareRoot()
        if let sd, sd > 0 {
            sharpe = mean / sd * periods.squareRoot()
            sharpePerBar = mean / sd
        }
        let downside = n > 0 ? (excess.reduce(0) { $0 + min($1, 0) * min($1, 0) } / Double(n)).squareRoot() : 0
        sortino = downside > 0 ? mean * periods / (downside * periods.squareRoot()) : nil
        let wins = r.filter { $0 > 0 }, losses = r.filter { $0 < 0 }
        hitRate = wins.count + losses.count > 0 ? Double(wins.count) / Double(wins.count + losses.count) : nil
        averageWin = wins.isEmpty ? nil : Self.mean(wins)
        averageLoss = losses.isEmpty ? nil : Self.mean(losses)
        if let (g3, g4) = Self.shape(excess) {
            skewness = g3
            kurtosis = g4
            if let sr = sharpePerBar {
                psr = probabilisticSharpe(sharpe: sr, benchmark: 0, bars: n, skewness: g3, kurtosis: g4)
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case bars, totalReturn, annualReturn, annualVolatility, sharpe, sortino, maxDrawdown, maxDrawdownBars, calmar,
            hitRate, averageWin, averageLoss, sharpePerBar, skewness, kurtosis, psr
    }

    /// Undefined ratios are written as `null` rather than left out, so every key is always present.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bars, forKey: .bars)
        try c.encode(totalReturn, forKey: .totalReturn)
        try c.encode(annualReturn, forKey: .annualReturn)
        try c.encode(annualVolatility, forKey: .annualVolatility)
        try c.encode(sharpe, forKey: .sharpe)
        try c.encode(sortino, forKey: .sortino)
        try c.encode(maxDrawdown, forKey: .maxDrawdown)
        try c.encode(maxDrawdownBars, forKey: .maxDrawdownBars)
        try c.encode(calmar, forKey: .calmar)
        try c.encode(hitRate, forKey: .hitRate)
        try c.encode(averageWin, forKey: .averageWin)
        try c.encode(averageLoss, forKey: .averageLoss)
        try c.encode(sharpePerBar, forKey: .sharpePerBar)
        try c.encode(skewness, forKey: .skewness)
        try c.encode(kurtosis, forKey: .kurtosis)
        try c.encode(psr, forKey: .psr)
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }

    static func sampleStd(_ x: [Double]) -> Double? {
        guard x.count > 1 else { return nil }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }

    /// Population skewness and raw kurtosis, nil without variance.
    static func shape(_ x: [Double]) -> (Double, Double)? {
        guard x.count > 2 else { return nil }
        let m = mean(x), n = Double(x.count)
        var m2 = 0.0, m3 = 0.0, m4 = 0.0
        for v in x { let d = v - m, d2 = d * d; m2 += d2; m3 += d2 * d; m4 += d2 * d2 }
        m2 /= n; m3 /= n; m4 /= n
        guard m2 > 0 else { return nil }
        return (m3 / pow(m2, 1.5), m4 / (m2 * m2))
    }
}

/// PSR(SR*) = Φ((ŜR − SR*)·√(n − 1) / √(1 − γ₃·ŜR + ((γ₄ − 1)/4)·ŜR²)), with ŜR the per-bar Sharpe, γ₃ the skewness and
/// γ₄ the RAW kurtosis (Bailey & López de Prado 2012). Nil when the denominator is not positive or n < 2.
public func probabilisticSharpe(
    sharpe sr: Double, benchmark: Double, bars n: Int, skewness g3: Double, kurtosis g4: Double
) -> Double? {
    let v = 1 - g3 * sr + (g4 - 1) / 4 * sr * sr
    guard n > 1, v > 0 else { return nil }
    return normalCDF((sr - benchmark) * Double(n - 1).squareRoot() / v.squareRoot())
}

/// The Deflated Sharpe Ratio's benchmark SR₀ = √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))), for N independent trials
/// whose per-bar Sharpe estimates have variance V (Bailey & López de Prado 2014); γ is Euler–Mascheroni. N ≥ 2.
public func deflatedSharpeBenchmark(trials: Int, sharpeVariance: Double) -> Double {
    let gamma = 0.5772156649015329
    let n = Double(trials)
    return sharpeVariance.squareRoot()
        * ((1 - gamma) * inverseNormalCDF(1 - 1 / n) + gamma * inverseNormalCDF(1 - 1 / (n * M_E)))
}

/// DSR = PSR(SR₀) of one trial's returns among `trials` trials with per-bar Sharpe variance `sharpeVariance`.
public func deflatedSharpe(_ m: PerformanceMetrics, trials: Int, sharpeVariance: Double) -> Double? {
    guard trials >= 2, let sr = m.sharpePerBar, let g3 = m.skewness, let g4 = m.kurtosis else { return nil }
    return probabilisticSharpe(
        sharpe: sr, benchmark: deflatedSharpeBenchmark(trials: trials, sharpeVariance: sharpeVariance),
        bars: m.bars, skewness: g3, kurtosis: g4)
}

/// Φ(x), the standard normal CDF.
public func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }

/// Φ⁻¹(p) for 0 < p < 1: Acklam's rational approximation refined by one Halley step (relative error ~1e-15).
public func inverseNormalCDF(_ p: Double) -> Double {
    precondition(p > 0 && p < 1, "inverseNormalCDF needs 0 < p < 1")
    let a = [
        -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
        -3.066479806614716e+01, 2.506628277459239e+00,
    ]
    let b = [
        -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
        -1.328068155288572e+01,
    ]
    let c = [
        -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
        4.374664141464968e+00, 2.938163982698783e+00,
    ]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let low = 0.02425
    var x: Double
    if p < low {
        let q = (-2 * log(p)).squareRoot()
        x =
            (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    } else if p <= 1 - low {
        let q = p - 0.5, r = q * q
        x =
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    } else {
        let q = (-2 * log(1 - p)).squareRoot()
        x =
            -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    let e = normalCDF(x) - p
    let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
    x -= u / (1 + x * u / 2)
    return x
}

/// How metrics were annualised, for a header: nil for daily bars (252 a year, the convention every table assumes),
/// else e.g. `annualised with 6048 bars a year`.
public func annualisationNote(barsPerYear: Double) -> String? {
    barsPerYear == 252 ? nil : "annualised with \(String(format: "%g", barsPerYear)) bars a year"
}

/// A (1 − α) confidence interval of the annualised Sharpe ratio by the stationary block bootstrap (Politis & Romano
/// 1994): each resample strings together blocks of geometric length with mean `blockLength`, wrapping around the
/// series. Percentile interval over `resamples` resamples; seeded through `rng`.
public func bootstrapSharpeInterval(
    _ r: [Double], periods: Double, blockLength: Double = 10, resamples: Int = 1_000,
    alpha: Double = 0.05, using rng: inout some RandomNumberGenerator
) -> ClosedRange<Double>? {
    let n = r.count
    guard n > 2, resamples > 1 else { return nil }
    let restart = 1 / max(blockLength, 1)
    var sharpes: [Double] = []
    sharpes.reserveCapacity(resamples)
    var sample = [Double](repeating: 0, count: n)
    for _ in 0..<resamples {
        var i = Int.random(in: 0..<n, using: &rng)
        for k in 0..<n {
            if k > 0 {
                i = Double.random(in: 0..<1, using: &rng) < restart ? Int.random(in: 0..<n, using: &rng) : (i + 1) % n
            }
            sample[k] = r[i]
        }
        let m = PerformanceMetrics.mean(sample)
        if let sd = PerformanceMetrics.sampleStd(sample), sd > 0 { sharpes.append(m / sd * periods.squareRoot()) }
    }
    guard sharpes.count > 1 else { return nil }
    sharpes.sort()
    func quantile(_ q: Double) -> Double {
        let h = q * Double(sharpes.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sharpes.count - 1)
        return sharpes[lo] + (h - Double(lo)) * (sharpes[hi] - sharpes[lo])
    }
    return quantile(alpha / 2)...quantile(1 - alpha / 2)
}

/// Reads one numeric column of a CSV file (plain or gzip) with a header row: fields split at commas, a field in double
/// quotes may hold commas and `""` (RFC 4180, without line breaks inside a field), and every row has as many fields as
/// the header. `column` names the column (case-insensitive). Empty picks the column named `return` or `returns`, else
/// the only numeric column that is not a date / time; otherwise it is an error listing the numeric columns. A steps
/// export (columns `reward` and `equity`) is refused without `column`: its rewards are the environment's (a log return
/// by default), not simple returns. Every cell must be a finite number: anything else is an error naming the file,
/// row and column.
public func readNumericColumn(path: String, column: String = "") throws -> (name: String, values: [Double]) {
    let bytes = try FileBytes.read(path).dropLast()  // (its trailing 0)
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw MarketDataError("\(path): not a UTF-8 text file")
    }
    var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
    guard let header = lines.first else { throw MarketDataError("\(path): the file is empty") }
    let names = try csvFields(header, path: path, line: 1)
    let rows = try lines.dropFirst().enumerated().map { k, line in
        let fields = try csvFields(line, path: path, line: k + 2)
        guard fields.count == names.count else {
            throw MarketDataError("\(path):\(k + 2): \(fields.count) fields, where the header has \(names.count)")
        }
        return fields
    }
    guard let first = rows.first else { throw MarketDataError("\(path): header only, no returns") }
    let index: Int
    if column.isEmpty {
        index = try returnsColumn(names, firstRow: first, path: path)
    } else {
        let matching = names.indices.filter { names[$0].lowercased() == column.lowercased() }
        guard let i = matching.first else {
            throw MarketDataError("\(path):1: no column '\(column)' (columns: \(names.joined(separator: ", ")))")
        }
        guard matching.count == 1 else { throw MarketDataError("\(path):1: \(matching.count) columns '\(column)'") }
        index = i
    }
    var values: [Double] = []
    values.reserveCapacity(rows.count)
    for (k, f) in rows.enumerated() {
        guard let v = Double(f[index]), v.isFinite else {
            throw MarketDataError("\(path):\(k + 2): column '\(names[index])': '\(f[index])' is not a finite number")
        }
        values.append(v)
    }
    return (names[index], values)
}

/// The fields of one CSV line, trimmed of blanks: a field in double quotes may hold commas and `""` for a quote.
private func csvFields(_ line: Substring, path: String, line number: Int) throws -> [String] {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    var fields: [String] = [], rest = line
    while true {
        let field = rest.drop(while: blank)
        guard field.first == "\"" else {
            let end = field.firstIndex(of: ",") ?? field.endIndex
            fields.append(field[..<end].trimmingCharacters(in: .whitespaces))
            if end == field.endIndex { return fields }
            rest = field[field.index(after: end)...]
            continue
        }
        var text = "", i = field.index(after: field.startIndex), closed = false
        while i < field.endIndex && !closed {
            let next = field.index(after: i)
            if field[i] != "\"" {
                text.append(field[i])
            } else if next < field.endIndex && field[next] == "\"" {
                text.append("\"")
                i = next
            } else {
                closed = true
            }
            i = field.index(after: i)
        }
        guard closed else { throw MarketDataError("\(path):\(number): a quoted field is not closed") }
        let after = field[i...].drop(while: blank)
        guard after.isEmpty || after.first == "," else {
            throw MarketDataError("\(path):\(number): text after a quoted field")
        }
        fields.append(text)
        if after.isEmpty { return fields }
        rest = after.dropFirst()
    }
}

/// The column `readNumericColumn` reads when none is named: `return` or `returns` (case-insensitive), else the only
/// column, dates and times aside, whose first cell is a number.
private func returnsColumn(_ names: [String], firstRow: [String], path: String) throws -> Int {
    let lower = names.map { $0.lowercased() }
    let named = lower.indices.filter { ["return", "returns"].contains(lower[$0]) }
    if named.count == 1 { return named[0] }
    guard named.isEmpty else { throw MarketDataError("\(path):1: \(named.count) columns named return or returns") }
    if lower.contains("reward") && lower.contains("equity") {
        throw MarketDataError(
            "\(path): a steps export's reward is the environment's (a log return by default), not a simple return; "
                + "`tradesim compare RUN` gives a run's metrics, or name a column of simple returns with --column")
    }
    let dates: Set<String> = ["date", "time", "timestamp", "datetime", ""]
    let numeric = names.indices.filter { i in !dates.contains(lower[i]) && Double(firstRow[i]) != nil }
    if numeric.count == 1 { return numeric[0] }
    let listed = numeric.isEmpty ? "none" : numeric.map { names[$0] }.joined(separator: ", ")
    throw MarketDataError(
        "\(path):1: no column named return or returns; name one with --column (numeric columns: \(listed))")
}
