import Foundation

/// The Probability of Backtest Overfitting of a sweep by combinatorially symmetric cross-validation (CSCV; Bailey,
/// Borwein, López de Prado & Zhu 2017), with the conventions of the Python implementation pypbo.
///
/// M is the T×N matrix of per-bar returns of N trials. The first T mod S bars are dropped and the remaining `barsUsed`
/// = T − (T mod S) bars are cut into S equal blocks of consecutive bars (S even, at most 20). For each of the C(S, S/2)
/// choices of S/2 blocks as in-sample part J, in lexicographic order of the chosen block indices (J = {0, …, S/2 − 1}
/// first), the out-of-sample part J̄ being the other blocks:
/// 1. R = the Sharpe of every trial on J, R̄ = the same on J̄ (`BlockStats.sharpes`: mean / std, ddof 1, of the bars of
///    the part's blocks, per bar and NOT annualised — a scale factor changes no rank; 0 when the trial's bars on the
///    part are all equal, e.g. a flat trial that never trades);
/// 2. n* = argmax R (the first such trial on ties), the trial one would select in-sample;
/// 3. ω̄ = rank of R̄[n*] among R̄ (1 = worst, ties averaged) / (N + 1);
/// 4. λ = log(ω̄ / (1 − ω̄)), computed as log(rank) − log(N + 1 − rank), which lies in [−log N, log N].
///
/// PBO is the fraction of combinations with λ ≤ 0 (the selected trial at or below the out-of-sample median). Noise
/// trials give PBO ≈ ½; one trial with a real edge gives PBO ≈ 0.
public struct BacktestOverfitting: Codable, Sendable, Equatable {
    /// Fraction of the combinations with λ ≤ 0.
    public var pbo: Double
    /// λ of every combination, in combination order (`combinations` values).
    public var logits: [Double]
    /// C(S, S/2): 12,870 for S = 16.
    public var combinations: Int
    /// S, the number of blocks.
    public var blocks: Int
    /// N, the number of trials.
    public var trials: Int
    /// T − (T mod S): the bars used (the last ones).
    public var barsUsed: Int
    /// Performance degradation: the least-squares slope of R̄[n*] on R[n*] across the combinations; nil when R[n*]
    /// is the same in every combination.
    public var degradationSlope: Double?
    /// The intercept of that regression.
    public var degradationIntercept: Double?
    /// P[R̄[n*] < 0]: the fraction of combinations whose selected trial loses out of sample.
    public var probabilityOfLoss: Double
    /// Mean over the combinations of Spearman's ρ between R and R̄ across the N trials (Pearson correlation of the
    /// ranks, ties averaged). Combinations where R or R̄ is the same for every trial (ρ undefined) are left out; nil
    /// when that is all of them.
    public var meanRankCorrelation: Double?

    /// One bin of the λ histogram: the λ in [lower, upper) (the last bin also holds its upper edge).
    public struct Bin: Codable, Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: Int
    }

    /// Histogram of `logits` in `bins` ≥ 1 equal bins over the whole possible range [−log N, log N], so that sweeps
    /// with the same N share their edges.
    public func histogram(bins: Int) -> [Bin] {
        precondition(bins >= 1, "histogram needs at least one bin")
        let hi = log(Double(trials)), lo = -hi
        let edge = { (i: Int) in lo + (hi - lo) * Double(i) / Double(bins) }
        var counts = [Int](repeating: 0, count: bins)
        for l in logits {
            counts[min(max(Int(((l - lo) / (hi - lo) * Double(bins)).rounded(.down)), 0), bins - 1)] += 1
        }
        return counts.indices.map { Bin(lower: edge($0), upper: edge($0 + 1), count: counts[$0]) }
    }

    enum CodingKeys: String, CodingKey {
        case pbo, logits, combinations, blocks, trials, barsUsed, degradationSlope, degradationIntercept,
            probabilityOfLoss, meanRankCorrelation
    }

    /// Undefined values are written as `null` rather than left out, so every key is always present.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pbo, forKey: .pbo)
        try c.encode(logits, forKey: .logits)
        try c.encode(combinations, forKey: .combinations)
        try c.encode(blocks, forKey: .blocks)
        try c.encode(trials, forKey: .trials)
        try c.encode(barsUsed, forKey: .barsUsed)
        try c.encode(degradationSlope, forKey: .degradationSlope)
        try c.encode(degradationIntercept, forKey: .degradationIntercept)
        try c.encode(probabilityOfLoss, forKey: .probabilityOfLoss)
        try c.encode(meanRankCorrelation, forKey: .meanRankCorrelation)
    }
}

/// CSCV over `returns`, N trials × T bars (`returns[n][t]`, every trial the same T), with S = `blocks`; see
/// `BacktestOverfitting`. Each combination costs O(S·N + N log N): the Sharpes come from per-block means and sums of
/// squared deviations (merged exactly, without cancellation), not from the bars.
///
/// Errors (one line): S odd, < 2 or > 20, fewer than 2 trials, trials of different lengths, fewer than 2 bars per block
/// (T < 2S), a non-finite return (trials and bars counted from 0).
public func backtestOverfitting(returns: [[Double]], blocks s: Int = 16) throws -> BacktestOverfitting {
    guard s >= 2, s % 2 == 0 else { throw MarketDataError("PBO: blocks must be an even number ≥ 2, not \(s)") }
    guard s <= 20 else {
        throw MarketDataError("PBO: blocks must be at most 20 (C(20, 10) = 184,756 splits), not \(s)")
    }
    let n = returns.count
    guard n >= 2 else { throw MarketDataError("PBO: needs at least 2 trials, got \(n)") }
    let t = returns[0].count
    for (i, r) in returns.enumerated() {
        guard r.count == t else { throw MarketDataError("PBO: trial \(i) has \(r.count) bars but trial 0 has \(t)") }
        if let bar = r.firstIndex(where: { !$0.isFinite }) {
            throw MarketDataError("PBO: trial \(i), bar \(bar): the return \(r[bar]) is not finite")
        }
    }
    let b = t / s
    guard b >= 2 else {
        throw MarketDataError("PBO: \(t) bars make fewer than 2 bars in each of \(s) blocks (needs ≥ \(2 * s))")
    }
    let stats = BlockStats(returns, blocks: s, barsPerBlock: b)

    let half = s / 2
    var chosen = Array(0..<half), rest = Array(half..<s)
    var r = [Double](repeating: 0, count: n), rBar = r, rankR = r, rankRBar = r, scratch = r
    var order = Array(0..<n)
    var logits: [Double] = [], selectedIS: [Double] = [], selectedOOS: [Double] = []
    var overfit = 0, losses = 0, rhoSum = 0.0, rhoCount = 0
    while true {
        stats.sharpes(chosen, into: &r, scratch: &scratch)
        stats.sharpes(rest, into: &rBar, scratch: &scratch)
        var best = 0
        for i in 1..<n where r[i] > r[best] { best = i }
        let x = rBar[best]
        var below = 0, equal = 0
        for v in rBar { if v < x { below += 1 } else if v == x { equal += 1 } }
        let rank = Double(below) + Double(equal + 1) / 2
        let lambda = log(rank) - log(Double(n + 1) - rank)
        logits.append(lambda)
        if lambda <= 0 { overfit += 1 }
        if x < 0 { losses += 1 }
        selectedIS.append(r[best])
        selectedOOS.append(x)
        averageRanks(r, into: &rankR, order: &order)
        averageRanks(rBar, into: &rankRBar, order: &order)
        if let rho = rankCorrelation(rankR, rankRBar) { rhoSum += rho; rhoCount += 1 }
        guard nextCombination(&chosen, of: s) else { break }
        rest = (0..<s).filter { !chosen.contains($0) }
    }
    let c = Double(logits.count)
    let fit = leastSquares(x: selectedIS, y: selectedOOS)
    return BacktestOverfitting(
        pbo: Double(overfit) / c, logits: logits, combinations: logits.count, blocks: s,
        trials: n, barsUsed: b * s, degradationSlope: fit?.slope,
        degradationIntercept: fit?.intercept,
        probabilityOfLoss: Double(losses) / c,
        meanRankCorrelation: rhoCount > 0 ? rhoSum / Double(rhoCount) : nil)
}

/// Per-block summaries of every trial, stored block-major (`[block · N + trial]`) so the loops over trials are
/// contiguous: the block mean, the sum of squared deviations from it, and the block's value if all its bars are equal
/// (NaN otherwise).
struct BlockStats {
    let trials: Int, barsPerBlock: Int
    var mean: [Double], squares: [Double], constant: [Double]

    /// Blocks of the LAST `blocks · barsPerBlock` bars of each trial.
    init(_ returns: [[Double]], blocks s: Int, barsPerBlock b: Int) {
        trials = returns.count
        barsPerBlock = b
        mean = [Double](repeating: 0, count: s * trials)
        squares = mean
        constant = mean
        let skip = returns[0].count - s * b
        for (i, series) in returns.enumerated() {
            for block in 0..<s {
                let bars = series[(skip + block * b)..<(skip + (block + 1) * b)]
                let mu = bars.reduce(0, +) / Double(b)
                let k = block * trials + i
                mean[k] = mu
                squares[k] = bars.reduce(0) { $0 + ($1 - mu) * ($1 - mu) }
                constant[k] = bars.allSatisfy { $0 == bars.first! } ? bars.first! : .nan
            }
        }
    }

    /// Per-bar Sharpe of every trial on the bars of `part` (block indices): mean / std (ddof 1), 0 when all the bars
    /// are equal. The blocks' sums of squares are merged exactly: Σ squaresₖ + b·Σ (meanₖ − mean)².
    func sharpes(_ part: [Int], into out: inout [Double], scratch mu: inout [Double]) {
        let k = Double(part.count), bars = Double(part.count * barsPerBlock), b = Double(barsPerBlock)
        for i in 0..<trials { mu[i] = 0; out[i] = 0 }
        for block in part { for i in 0..<trials { mu[i] += mean[block * trials + i] } }
        for i in 0..<trials { mu[i] /= k }
        for block in part {
            for i in 0..<trials {
                let d = mean[block * trials + i] - mu[i]
                out[i] += squares[block * trials + i] + b * d * d
            }
        }
        for i in 0..<trials {
            let first = constant[part[0] * trials + i]
            let flat = part.allSatisfy { constant[$0 * trials + i] == first }  // false when NaN
            out[i] = flat || out[i] <= 0 ? 0 : mu[i] / (out[i] / (bars - 1)).squareRoot()
        }
    }
}

/// Advances `c` (k increasing indices below `n`) to the next combination in lexicographic order; false after the last.
private func nextCombination(_ c: inout [Int], of n: Int) -> Bool {
    let k = c.count
    var i = k - 1
    while i >= 0 && c[i] == n - k + i { i -= 1 }
    guard i >= 0 else { return false }
    c[i] += 1
    for j in (i + 1)..<k { c[j] = c[j - 1] + 1 }
    return true
}

/// Ranks 1…N of `v` with ties given their average rank (scipy's `rankdata`); `order` is scratch of N indices.
private func averageRanks(_ v: [Double], into ranks: inout [Double], order: inout [Int]) {
    order.sort { v[$0] < v[$1] }
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && v[order[end]] == v[order[start]] { end += 1 }
        let average = Double(start + end + 1) / 2
        for j in start..<end { ranks[order[j]] = average }
        start = end
    }
}

/// Pearson correlation of two rank vectors (both average (N + 1)/2); nil when either is constant.
private func rankCorrelation(_ a: [Double], _ b: [Double]) -> Double? {
    let m = Double(a.count + 1) / 2
    var ab = 0.0, aa = 0.0, bb = 0.0
    for i in a.indices { ab += (a[i] - m) * (b[i] - m); aa += (a[i] - m) * (a[i] - m); bb += (b[i] - m) * (b[i] - m) }
    return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : nil
}

/// Ordinary least squares y ≈ intercept + slope·x; nil when x is constant.
private func leastSquares(x: [Double], y: [Double]) -> (slope: Double, intercept: Double)? {
    let n = Double(x.count), mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0
    for i in x.indices { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx) }
    guard sxx > 0 else { return nil }
    let slope = sxy / sxx
    return (slope, my - slope * mx)
}
