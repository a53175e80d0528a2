import Foundation
import MarketData
import RLCore

/// What the agent sees after bar t has closed: the last T rows of features and its own portfolio.
///
/// The window is not copied: `features` is the environment's whole (D, F) matrix, shared by reference, and the window
/// is rows `bar − T + 1 … bar`, i.e. `features[(bar − T + 1)·F ..< (bar + 1)·F]`. Nothing in it depends on a bar after
/// `bar`.
public struct MarketObservation: WindowObservation, Sendable, Equatable {
    /// The feature matrix and the weights, behind one reference. (The stored properties are written only by
    /// `MarketEnv.step(_:into:)`, over an observation it then holds the only reference to.)
    var storage: ObservationStorage
    /// (D, F) normalised features of every bar, row-major.
    public var features: [Float] { storage.features }
    /// t: the bar that just closed.
    public internal(set) var bar: Int
    /// T
    public internal(set) var window: Int
    /// F
    public internal(set) var width: Int
    /// (N) portfolio weights after the last fill, marked at bar t's close (sharesᵢ·closeᵢ / equity); a new array at
    /// each read.
    public var weights: [Double] { storage.weights }
    /// cash / equity at bar t's close.
    public var cashWeight: Double { weight(ofCash: cash, in: equity) }
    /// Cash and equity at bar t's close (the step leaves the division to a reader of `cashWeight`).
    var cash: Double, equity: Double
    /// Whether `extras` holds the weights, and the cash weight.
    var observePosition: Bool, observeCash: Bool

    /// (P) what the agent sees of its portfolio: the weights if `observePosition`, then the cash weight if
    /// `observeCash`.
    public var extras: [Double] {
        observeCash ? (observePosition ? weights : []) + [cashWeight] : (observePosition ? weights : [])
    }

    /// The (T, F) window, contiguous.
    @inlinable public var window2D: ArraySlice<Float> { features[(bar - window + 1) * width..<(bar + 1) * width] }

    public static func == (a: Self, b: Self) -> Bool {
        (a.bar, a.window, a.width, a.cashWeight, a.observePosition, a.observeCash)
            == (b.bar, b.window, b.width, b.cashWeight, b.observePosition, b.observeCash)
            && a.weights == b.weights && a.features == b.features
    }
}

/// What an observation holds by reference: the feature matrix and the weights after a fill (N), one reference to count
/// per observation. `MarketEnv.step(_:)` keeps two and writes a step's weights into the one it handed out the step
/// before last, only once nothing else holds it: stepping in a loop, a step allocates nothing. `step(_:into:)` writes
/// into the caller's, only while nothing else holds it: no reference is counted.
final class ObservationStorage: @unchecked Sendable {
    /// (D, F)
    let features: [Float]
    /// (N) written by the environment only while it holds the sole reference. Memory of its own rather than an array,
    /// so that a step writes it without asking whether an array's buffer is shared (a call into the runtime).
    let weightValues: UnsafeMutableBufferPointer<Double>

    init(features: [Float], assets n: Int) {
        self.features = features
        weightValues = .allocate(capacity: n)
        weightValues.initialize(repeating: 0)
    }

    deinit { weightValues.deallocate() }

    /// (N) the weights, as an array.
    var weights: [Double] { Array(weightValues) }

    /// Writes the N weights from `source` (the environment holds the only reference to this storage, or the caller of
    /// `step(_:into:)` does).
    func copyWeights(from source: UnsafePointer<Double>) {
        let w = weightValues.baseAddress!
        for i in 0..<weightValues.count { w[i] = source[i] }
    }

    /// Whether this storage holds `features` itself (not an equal copy) and N weights.
    func holds(_ features: [Float], assets n: Int) -> Bool {
        weightValues.count == n
            && self.features.withUnsafeBufferPointer { $0.baseAddress }
                == features.withUnsafeBufferPointer { $0.baseAddress }
    }
}

/// What happened on one step, for logging; per-asset fills are in `MarketEnv.lastFills`.
public struct StepInfo: Sendable, Equatable {
    /// The bar the step moved to (t + 1).
    public var bar: Int
    /// Its timestamp.
    public var timestamp: Int64
    /// Equity at that bar's close, after costs.
    public var equity: Double
    /// Cash after the fill and fees.
    public var cash: Double
    /// Costs of this step: commission, spread and slippage against the reference price, borrow fees.
    public var cost: Double
    /// Σ|traded notional| / equity before the trade (0 when that equity is not positive).
    public var turnover: Double { referenceEquity > 0 ? traded / referenceEquity : 0 }
    /// Σ|traded notional|, and equity before the trade (at the fill's reference prices); the step leaves the division
    /// to a reader of `turnover`.
    var traded: Double, referenceEquity: Double
    /// Asset 0's fill price, 0 when it did not trade.
    public var fillPrice: Double
    /// Asset 0's weight after the fill, marked at the close.
    public var position: Double
}

/// One fill of one asset on the latest step.
public struct Fill: Sendable, Equatable {
    /// Signed shares bought (> 0) or sold (< 0); 0 when the asset did not trade.
    public var quantity: Double
    /// Price paid per share including spread and slippage (0 when the asset did not trade).
    public var price: Double
    /// Commission + |quantity|·|price − reference| for this fill.
    public var cost: Double
}

/// A configuration that cannot run on its data.
public struct EnvironmentError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The replay market: one asset or a panel, bars of one split, fills at the next bar with costs, exact accounting.
///
/// Timeline of `step(action)` at bar t: the target weights are sized against equity at the reference price of bar t+1
/// (its open, or its close with `fill: nextClose`), filled there with spread, slippage and commission, short borrow is
/// charged for the bar, the portfolio is marked at bar t+1's close, and the reward is computed from that equity.
/// Cash may go slightly negative (costs on a fully invested book); equity = cash + Σ sharesᵢ·closeᵢ at every step.
public struct MarketEnv: AgentEnvironment, Sendable {
    public typealias Observation = MarketObservation
    public typealias Action = TradingAction
    public typealias Info = StepInfo

    public let config: MarketConfig
    public let actionSpace: TradingActionSpace
    /// The first and last bar an episode may stand on (decision bars t run over `firstBar ..< lastBar`).
    public let firstBar: Int
    public let lastBar: Int

    // What a step reads and writes, declared together (laid out together, so that a step of a batch touches few
    // cache lines of each environment).
    let n: Int
    /// N₄
    let n4: Int
    /// (D, 3, N₄) per bar: the assets' fill reference prices (open or close by `fill`), the relative price impact of
    /// trading at them (`CostModel.impact`), and their closes; rows padded to N₄ = N rounded up to whole SIMD lanes
    /// with price 1 and impact 0.
    let quotes: DoubleBuffer
    /// Each asset's trade tolerance at a fill (`rebalance`'s τ), (N₄) at bar d's row `d · toleranceStride`:
    /// `tradeTolerance`, or +∞ where the asset has no bar of its own (a gap the panel forward-filled: an order cannot
    /// fill where the market gave no price, so the asset keeps its shares). One row for all bars (stride 0) when the
    /// panel has no gap, else (D, N₄).
    let tolerances: DoubleBuffer
    let toleranceStride: Int
    let timestamps: [Int64]
    public private(set) var bar = 0
    var episodeStart = 0
    public private(set) var cash = 0.0
    public private(set) var equity = 0.0
    /// One or two assets: the book's `referenceValue` at the next fill bar (t + 1), as the last fill left it (0 after a
    /// reset).
    var heldValue = 0.0
    /// (5, N₄): shares, target, previous target, the latest fills' quantity, and the weights after the last fill marked
    /// at the close; one flat buffer so the step works on one pointer (padding lanes stay 0); copied on write
    /// (`writableBook`).
    var book: DoubleBuffer

    /// (N) asset names.
    public let tickers: [String]
    /// Bars a year of the data (`Panel.barsPerYear`), to annualise the episode's metrics.
    public let barsPerYear: Double
    /// (D, N) closes, for marking, baselines and rewards.
    let close: [Double]
    let features: [Float]
    let width: Int
    /// (D, N) EW std of price changes, only for the volatility-scaled reward.
    let sigma: [Double]
    /// (D, N) volatility-targeting factors of the chosen positions (`volatilityTargetScale`), only with sizing.
    let sizing: [Double]
    var rng: Xoshiro256
    /// The weights after the last fill (N), marked at the close, as handed out in the latest observation.
    var storage: ObservationStorage
    /// The other storage, which the next step writes (see `ObservationStorage`).
    var spare: ObservationStorage
    var dsr: DifferentialSharpe

    @inlinable static var sharesRow: Int { 0 }
    @inlinable static var targetRow: Int { 1 }
    @inlinable static var previousTargetRow: Int { 2 }
    @inlinable static var fillQuantityRow: Int { 3 }
    @inlinable static var weightsRow: Int { 4 }

    /// (N) shares held.
    public var shares: [Double] { book[0..<n] }
    /// (N) fills of the latest step (at the current bar's reference prices; after a reset, none).
    public var lastFills: [Fill] {
        let q = UnsafePointer(book.base) + Self.fillQuantityRow * n4, quote = self.quote(atBar: bar, n4: n4)
        return (0..<n).map { i in
            let fill = scalarFill(
                quantity: q[i], reference: quote[i], impact: quote[n4 + i], commissionRate: config.costs.commissionRate)
            return Fill(quantity: q[i], price: fill.price, cost: fill.cost)
        }
    }

    /// The quotes (3, N₄) of bar b: reference price, impact, close.
    @inline(__always)
    func quote(atBar b: Int, n4: Int) -> UnsafePointer<Double> { UnsafePointer(quotes.base) + 3 * n4 * b }

    /// - Parameters:
    ///   - panel: the bars (N assets × D).
    ///   - features: (D, F) normalised features, row-major, causal (row t uses bars ≤ t only).
    ///   - width: F.
    ///   - bars: the split, as bar indices; decisions run from its first observable bar to its second-to-last bar.
    ///   - firstObservableBar: the first row whose features are defined (rolling-window warm-up).
    public init(
        panel: Panel, features: [Float], width: Int, bars: Range<Int>, firstObservableBar: Int = 0,
        config: MarketConfig, seed: UInt64 = 0
    ) throws {
        guard width > 0, features.count == width * panel.barCount else {
            throw EnvironmentError("features hold \(features.count) values, expected \(panel.barCount) bars × \(width)")
        }
        guard config.window >= 1 else { throw EnvironmentError("window must be at least 1, not \(config.window)") }
        guard bars.lowerBound >= 0, bars.upperBound <= panel.barCount else {
            throw EnvironmentError("split bars \(bars) lie outside the \(panel.barCount) bars of \(panel.source)")
        }
        // (A window longer than the data leaves no step; so does one that would overflow the sum.)
        let first =
            config.window > panel.barCount ? Int.max : max(bars.lowerBound, firstObservableBar + config.window - 1)
        guard first < bars.upperBound - 1 else {
            throw EnvironmentError(
                "window \(config.window) (after \(firstObservableBar) warm-up bars) leaves no step in the "
                    + "split of \(bars.count) bars"
            )
        }
        guard config.initialCash > 0, config.initialCash.isFinite else {
            throw EnvironmentError("initialCash must be positive")
        }
        let c = config.costs
        for (name, v) in [
            ("commissionBps", c.commissionBps), ("halfSpreadBps", c.halfSpreadBps), ("slippageBps", c.slippageBps),
            ("slippageRangeFraction", c.slippageRangeFraction), ("borrowBpsPerYear", c.borrowBpsPerYear),
        ]
        where !(v >= 0 && v.isFinite) {
            throw EnvironmentError("costs.\(name) must be a finite number ≥ 0, not \(v)")
        }
        let oneWay = c.commissionBps + c.halfSpreadBps + c.slippageBps
        guard oneWay < 10_000 else {
            throw EnvironmentError(
                "costs: commissionBps + halfSpreadBps + slippageBps is \(oneWay) bps, the whole traded notional or "
                    + "more; they must add to less than 10000")
        }
        if config.actions.kind == .discrete && config.actions.levels.isEmpty {
            throw EnvironmentError("actions.levels must name at least one target weight")
        }
        if config.actions.kind == .discrete, let twice = repeatedValue(config.actions.levels) {
            throw EnvironmentError("actions.levels lists \(twice) twice (two actions that do the same)")
        }
        if let bad = config.actions.levels.first(where: { !$0.isFinite }) {
            throw EnvironmentError("actions.levels must be finite weights, not \(bad)")
        }
        guard config.equityFloor >= 0, config.equityFloor < 1 else {
            throw EnvironmentError(
                "equityFloor is a fraction of initialCash, ≥ 0 and below 1 (0.1 = 10%), not \(config.equityFloor)")
        }
        guard config.reward.volSpan >= 2 else {
            throw EnvironmentError("reward.volSpan must be at least 2 bars, not \(config.reward.volSpan)")
        }
        guard config.actions.maxGrossLeverage > 0 else {
            throw EnvironmentError("actions.maxGrossLeverage must be positive")
        }
        let z = config.sizing
        if z.kind != .none {
            guard z.annualTarget > 0, z.maxLeverage > 0, z.span >= 2, z.periodsPerYear >= 1,
                z.annualTarget.isFinite, z.maxLeverage.isFinite
            else {
                throw EnvironmentError(
                    "sizing needs annualTarget > 0, maxLeverage > 0, span ≥ 2 and periodsPerYear ≥ 1")
            }
        }
        // (`Alignment` gives one asset every bar of its own; a `Panel` built by hand may not. One asset steps on two
        // lanes with the uniform tolerance, where a gap's bar would need its own.)
        let firstGap = panel.observed.firstIndex(of: false)
        if panel.assetCount == 1, let d = firstGap {
            throw EnvironmentError(
                "\(panel.source): its one asset, \(panel.tickers[0]), has no bar of its own at bar \(d) "
                    + "(\(DateParser.format(panel.timestamps[d])), observed = false): one asset needs every bar")
        }
        if config.episode.mode == .random && config.episode.length < 1 {
            throw EnvironmentError("episode.length must be at least 1 in random mode")
        }
        self.config = config
        n = panel.assetCount
        actionSpace = TradingActionSpace(config.actions, assets: n)
        firstBar = first
        lastBar = bars.upperBound - 1
        tickers = panel.tickers
        barsPerYear = panel.barsPerYear
        timestamps = panel.timestamps
        close = panel.close
        // a gappy panel of two assets on four lanes, which take each asset's tolerance (see `rebalance`)
        let gaps = firstGap != nil, observed = panel.observed, assets = panel.assetCount
        let n4 = gaps ? max(4, padded(n)) : padded(n)
        self.n4 = n4
        var q = [Double](repeating: 1, count: 3 * n4 * panel.barCount)
        for d in 0..<panel.barCount {
            for i in 0..<n {
                let k = d * n + i, row = 3 * n4 * d
                let reference = config.fill == .nextOpen ? panel.open[k] : panel.close[k]
                q[row + i] = reference
                q[row + n4 + i] = config.costs.impact(reference: reference, high: panel.high[k], low: panel.low[k])
                q[row + 2 * n4 + i] = panel.close[k]
            }
            for i in n..<n4 { q[3 * n4 * d + n4 + i] = 0 }
        }
        quotes = DoubleBuffer(q)
        tolerances = DoubleBuffer(
            (0..<(gaps ? panel.barCount : 1)).flatMap { d in
                (0..<n4).map { i in gaps && i < assets && !observed[d * assets + i] ? .infinity : tradeTolerance }
            })
        toleranceStride = gaps ? n4 : 0
        self.features = features
        self.width = width
        if config.reward.kind == .volScaled && config.sizing.kind != .volatilityTarget {
            var s = [Double](repeating: 0, count: panel.close.count)
            for i in 0..<n {
                let series = ewmStd(
                    ofChanges: stride(from: i, to: panel.close.count, by: n).map { panel.close[$0] },
                    span: config.reward.volSpan)
                for d in series.indices { s[d * n + i] = series[d] }
            }
            sigma = s
        } else {
            sigma = []
        }
        if z.kind == .volatilityTarget {
            var f = [Double](repeating: 0, count: panel.close.count)
            for i in 0..<n {
                let factors = volatilityTargetScale(
                    closes: stride(from: i, to: panel.close.count, by: n).map { panel.close[$0] },
                    config: z)
                for d in factors.indices { f[d * n + i] = factors[d] }
            }
            sizing = f
        } else {
            sizing = []
        }
        rng = Xoshiro256(seed: seed)
        storage = ObservationStorage(features: features, assets: n)
        spare = ObservationStorage(features: features, assets: n)
        book = DoubleBuffer(repeatElement(0, count: 5 * n4))
        dsr = DifferentialSharpe(eta: config.reward.dsrEta)
    }

    /// N
    public var assetCount: Int { n }
    /// F
    public var featureWidth: Int { width }
    /// The observation's extra values after the window: N weights if `observePosition`, then cash if `observeCash`.
    public var portfolioWidth: Int { (config.observePosition ? n : 0) + (config.observeCash ? 1 : 0) }
    /// K: discrete levels for one asset; 0 for a panel or continuous weights (their actions are vectors).
    public var discreteActionCount: Int { actionSpace.kind == .discrete && n == 1 ? actionSpace.levels.count : 0 }
    /// N: one target weight per asset.
    public var continuousActionCount: Int { n }
    public func action(index k: Int) -> TradingAction { .index(k) }
    public func action(continuous values: [Double]) -> TradingAction { .weights(values) }
    /// The timestamp of a bar.
    public func timestamp(ofBar t: Int) -> Int64 { timestamps[t] }
    /// The close of asset i at bar t.
    public func closePrice(bar t: Int, asset i: Int = 0) -> Double { close[t * n + i] }

    public mutating func reset(seed: UInt64?) -> MarketObservation {
        if let seed { rng = Xoshiro256(seed: seed) }
        switch config.episode.mode {
        case .whole:
            episodeStart = firstBar
        case .random:
            let latest = lastBar - config.episode.length
            episodeStart = latest > firstBar ? Int.random(in: firstBar...latest, using: &rng) : firstBar
        }
        bar = episodeStart
        cash = config.initialCash
        equity = config.initialCash
        heldValue = 0
        if !isKnownUniquelyReferenced(&storage) { storage = ObservationStorage(features: features, assets: n) }
        storage.weightValues.update(repeating: 0)
        writableBook().update(repeating: 0, count: book.count)
        dsr = DifferentialSharpe(eta: config.reward.dsrEta)
        return observation()
    }

    public mutating func step(_ action: TradingAction) -> Step<MarketObservation, StepInfo> {
        let s = lanes(n, n4) { advance(action, n: $0, n4: $1) }
        // The observation's weights go to the storage handed out the step before last (see `ObservationStorage`).
        if !isKnownUniquelyReferenced(&spare) { spare = ObservationStorage(features: features, assets: n) }
        spare.copyWeights(from: UnsafePointer(book.base) + Self.weightsRow * n4)
        swap(&storage, &spare)
        return Step(
            observation: observation(), reward: s.reward, terminated: s.terminated, truncated: s.truncated,
            info: s.info)
    }

    /// `step(action)` written over `s`: the same values, bit for bit. The weights go into the storage `s`'s observation
    /// holds, when nothing else holds it and it is one of this environment's (the same feature matrix and N); the
    /// first step into a new `s`, or one whose observation was copied, takes a storage of its own. Stepping in a loop,
    /// a step counts no reference (`step(_:)` counts two, for the observation it returns: a quarter of a single-asset
    /// step's time).
    public mutating func step(_ action: TradingAction, into s: inout Step<MarketObservation, StepInfo>) {
        let n = self.n
        if !isKnownUniquelyReferenced(&s.observation.storage) || !s.observation.storage.holds(features, assets: n) {
            s.observation.storage = ObservationStorage(features: features, assets: n)
        }
        let r = lanes(n, n4) { advance(action, n: $0, n4: $1) }
        s.observation.storage.copyWeights(from: UnsafePointer(book.base) + Self.weightsRow * n4)
        // Field by field: assigning a new observation would count a reference to the storage and drop one.
        s.observation.bar = bar
        s.observation.window = config.window
        s.observation.width = width
        s.observation.cash = cash
        s.observation.equity = equity
        s.observation.observePosition = config.observePosition
        s.observation.observeCash = config.observeCash
        s.reward = r.reward
        s.terminated = r.terminated
        s.truncated = r.truncated
        s.info = r.info
    }

    /// Steps `envs[i]` with `actions[i]` for every i, as many `step`s would, bit for bit, but phase by phase (see
    /// `advance`): the orders of a chunk of environments, then their fills, then their settlements; at the end every
    /// reward. Each phase of one environment waits on the one before (a chain of divisions, then a `log`); run across
    /// the environments, the chains overlap.
    public static func step(
        _ envs: UnsafeMutableBufferPointer<MarketEnv>, _ actions: UnsafeBufferPointer<TradingAction>,
        into columns: StepColumns<StepInfo>
    ) {
        // In chunks of 8: enough chains to overlap, few enough environments to stay in L1 (16 and 64 at once were 3%
        // and 6% slower for 64 environments), with the scratch on the stack. Trivial values, written before read.
        let env = envs.baseAddress!, chunk = 8
        withUnsafeTemporaryAllocation(of: Order.self, capacity: chunk) { orders in
            withUnsafeTemporaryAllocation(of: RebalanceResult.self, capacity: chunk) { fills in
                for start in stride(from: 0, to: envs.count, by: chunk) {
                    let rows = start..<min(start + chunk, envs.count)
                    for i in rows {
                        orders[i - start] = lanes(env[i].n, env[i].n4) { env[i].order(actions[i], n: $0, n4: $1) }
                    }
                    for i in rows { fills[i - start] = env[i].fill(orders[i - start], n: env[i].n, n4: env[i].n4) }
                    for i in rows {
                        let extras = columns.extras(row: i), r = fills[i - start]
                        let s = lanes(env[i].n, env[i].n4) { env[i].settle(r, n: $0, n4: $1, extrasTo: extras) }
                        columns.record(s, at: i)
                    }
                }
            }
        }
        for i in envs.indices {
            columns.rewards[i] = reward(settled: columns.rewards[i], kind: env[i].config.reward.kind)
        }
    }

    /// The step, with the bar in place of the observation, its phases in turn: `order`, `fill`, `settle` and
    /// `reward(settled:)`.
    @inline(__always)
    mutating func advance(_ action: TradingAction, n: Int, n4: Int) -> Step<Int, StepInfo> {
        var s = settle(fill(order(action, n: n, n4: n4), n: n, n4: n4), n: n, n4: n4, extrasTo: nil)
        s.reward = reward(settled: s.reward)
        return s
    }

    /// What a step's first phase leaves its fill.
    struct Order {
        /// The action is `.hold`: no asset trades.
        var hold: Bool
        /// The book's `referenceValue` at the fill bar.
        var value: Double
    }

    /// A step's first phase at bar t: the book made this copy's own, its value at the fill bar's reference prices taken
    /// (for more than two assets first, so that its additions run beside the target's lookups; for fewer, as the fill
    /// before left it: see `referenceValue`), and the action's target set.
    @inline(__always)
    mutating func order(_ action: borrowing TradingAction, n: Int, n4: Int) -> Order {
        if _slowPath(bar >= lastBar) { Self.misuse("step after the episode ended; call reset") }
        let book = writableBook()
        let value =
            n4 == 2
            ? heldValue : referenceValue(book: book, quote: quote(atBar: bar + 1, n4: n4), n4: n4)
        return Order(hold: setTarget(action, book: book, n: n, n4: n4), value: value)
    }

    /// The second phase: the fill at bar t+1, with borrow for the bar (changes the book only). (`mutating` only so that
    /// the environment is passed by reference, not copied.)
    @inline(__always)
    mutating func fill(_ order: Order, n: Int, n4: Int) -> RebalanceResult {
        let next = bar + 1, costs = config.costs
        // the next fill bar (t + 2; at the data's last bar, where no step fills after, that bar)
        let after = min(next + 1, timestamps.count - 1)
        let borrowRate =
            costs.borrowBpsPerYear > 0
            ? costs.borrowBpsPerYear * 1e-4 * Double(timestamps[next] - timestamps[bar]) / (365.25 * 86_400) : 0
        return rebalance(
            book: book.base, quote: quote(atBar: next, n4: n4), nextReference: quote(atBar: after, n4: n4), n: n,
            n4: n4, cash: cash, value: order.value, commissionRate: costs.commissionRate, borrowRate: borrowRate,
            fractional: config.fractionalShares, hold: order.hold
        ) { UnsafePointer(tolerances.base) + next * toleranceStride }
    }

    /// The third phase: the weights marked at bar t+1's close, the extras (P) to `out` when given, the reward (for
    /// `logReturn` the equity ratio, see `reward(settled:)`), and the move to bar t+1.
    @inline(__always)
    mutating func settle(
        _ r: RebalanceResult, n: Int, n4: Int, extrasTo out: UnsafeMutablePointer<Double>?
    ) -> Step<Int, StepInfo> {
        let book = self.book.base, next = bar + 1, quote = self.quote(atBar: next, n4: n4)
        let inverseEquity = r.equity != 0 ? 1 / r.equity : 0, mark = quote + 2 * n4
        let weights = book + Self.weightsRow * n4
        for i in 0..<n { weights[i] = book[i] * mark[i] * inverseEquity }
        let reward =
            config.reward.kind == .logReturn  // the default, inlined; `reward(settled:)` takes the log
            ? equityRatio(previousEquity: equity, newEquity: r.equity)
            : rewardFor(previousEquity: equity, newEquity: r.equity, next: next)
        cash = r.cash
        equity = r.equity
        heldValue = r.nextValue
        bar = next
        if let out {
            if config.observePosition { for i in 0..<n { out[i] = weights[i] } }
            if config.observeCash { out[config.observePosition ? n : 0] = cashWeight }
        }
        let terminated = r.equity <= config.equityFloor * config.initialCash
        let truncated =
            !terminated
            && (next >= lastBar || (config.episode.mode == .random && next - episodeStart >= config.episode.length))
        let info = StepInfo(
            bar: next, timestamp: timestamps[next], equity: r.equity, cash: r.cash, cost: r.cost,
            traded: r.traded, referenceEquity: r.referenceEquity,
            fillPrice: scalarFill(
                quantity: book[Self.fillQuantityRow * n4], reference: quote[0], impact: quote[n4],
                commissionRate: config.costs.commissionRate
            ).price,
            position: weights[0])
        return Step(observation: next, reward: reward, terminated: terminated, truncated: truncated, info: info)
    }

    /// The book (5, N₄), copied first when another copy of the environment holds it.
    mutating func writableBook() -> UnsafeMutablePointer<Double> {
        if !isKnownUniquelyReferenced(&book) { book = book.copy() }
        return book.base
    }

    /// Sets `target` (N) from the action: discrete levels or weights, projected onto the constraints; `.hold` targets
    /// the current weights (what the book holds at bar t's close; the fill then trades nothing). The target it replaces
    /// becomes the previous target. Returns whether the action is `.hold`. (`mutating` only so that the environment is
    /// passed by reference, not copied.)
    @inline(__always)
    mutating func setTarget(_ action: borrowing TradingAction, book: UnsafeMutablePointer<Double>, n: Int, n4: Int)
        -> Bool
    {
        let target = book + Self.targetRow * n4, previous = book + Self.previousTargetRow * n4
        for i in 0..<n { previous[i] = target[i] }
        switch action {
        case .hold:
            let weights = book + Self.weightsRow * n4
            for i in 0..<n { target[i] = weights[i] }
            return true
        case .index(let k):
            if _slowPath(n != 1 || k < 0 || k >= actionSpace.levels.count) {
                Self.misuse("action \(action) is outside \(actionSpace)")
            }
            target[0] = actionSpace.levels[k]
        case .indices(let ks):
            if _slowPath(ks.count != n) { Self.misuse("action \(action) needs one level per asset (\(n))") }
            let inside = ks.withUnsafeBufferPointer { actionSpace.setTarget(ofLevels: $0, target) }
            if _slowPath(!inside) { Self.misuse("action \(action) is outside \(actionSpace)") }
            if !sizing.isEmpty { sizeTarget(target) }
            return false  // (projected by `setTarget(ofLevels:_:)`)
        case .weights(let w):
            if _slowPath(w.count != n || !w.allSatisfy(\.isFinite)) { Self.misuse("action needs \(n) finite weights") }
            for i in 0..<n { target[i] = w[i] }
        }
        if n > 1 || actionSpace.longOnly || abs(target[0]) > actionSpace.maxGrossLeverage {
            actionSpace.project(UnsafeMutableBufferPointer(start: target, count: n))
        }
        if !sizing.isEmpty { sizeTarget(target) }
        return false
    }

    /// Stops the process on a misuse of the step (an action outside the space, a step past the episode's end) with
    /// `message` on stderr, in a release build too, where a failed `precondition` prints nothing. Out of line, and the
    /// message is built only when it is called; the checks are marked unlikely (`_slowPath`), so that the step's code
    /// stays laid out as with `precondition` (without the mark, one asset ran 0.98× in 16 A/B pairs; with it, 1.02×).
    @inline(never)
    static func misuse(_ message: @autoclosure () -> String) -> Never { fatalError(message()) }

    /// Volatility targeting of the target weights (N) at the current bar: each × its factor, then Σ|wᵢ| scaled down to
    /// `sizing.maxLeverage` if it is above. (`mutating` as `setTarget`.)
    mutating func sizeTarget(_ target: UnsafeMutablePointer<Double>) {
        let (n, row, cap) = (self.n, bar * self.n, config.sizing.maxLeverage)
        sizing.withUnsafeBufferPointer { factors in
            var gross = 0.0
            for i in 0..<n {
                target[i] *= factors[row + i]
                gross += abs(target[i])
            }
            if gross > cap { for i in 0..<n { target[i] *= cap / gross } }
        }
    }

    /// Eₜ₊₁ / Eₜ, with Eₜ₊₁ floored at 1e-12 of the initial cash: what the log-return reward takes the log of.
    @inline(__always)
    func equityRatio(previousEquity: Double, newEquity: Double) -> Double {
        max(newEquity, 1e-12 * config.initialCash) / previousEquity
    }

    /// The reward of a settled step. For `logReturn`, `settle` leaves the equity ratio and this takes its log
    /// (`logNearOne`: glibc's bits, inlined for the ratios of ordinary days); any other reward passes through.
    @inline(__always)
    func reward(settled x: Double) -> Double { Self.reward(settled: x, kind: config.reward.kind) }

    /// `reward(settled:)` for a reward kind (static, so that the batch reads the kind without copying the environment).
    @inline(__always)
    static func reward(settled x: Double, kind: RewardKind) -> Double {
        kind == .logReturn ? logNearOne(x) : x
    }

    /// The settled reward of the step to bar `next` (`reward(settled:)` turns it into the reward): for `logReturn` the
    /// equity ratio, which `settle` computes inline; any other reward as it is.
    mutating func rewardFor(previousEquity: Double, newEquity: Double, next: Int) -> Double {
        switch config.reward.kind {
        case .logReturn:
            return equityRatio(previousEquity: previousEquity, newEquity: newEquity)
        case .pnl:
            return (newEquity - previousEquity) / config.initialCash
        case .differentialSharpe:
            return dsr.reward(newEquity / previousEquity - 1)
        case .volScaled:
            let r = config.reward
            let costRate = (config.costs.commissionBps + config.costs.halfSpreadBps + config.costs.slippageBps) * 1e-4
            var total = 0.0
            // Positions sized by `market.sizing` are the scaled positions of eq. 4: scaling them again by σ_tgt/σ
            // would count the volatility twice.
            if !sizing.isEmpty {
                for i in 0..<n {
                    total += scaledPositionReward(
                        mu: r.mu, costRate: costRate, price: close[next * n + i],
                        previousPrice: close[bar * n + i], scaled: book.base[Self.targetRow * n4 + i],
                        previousScaled: book.base[Self.previousTargetRow * n4 + i])
                }
                return total
            }
            for i in 0..<n {
                total += volScaledReward(
                    mu: r.mu, sigmaTarget: r.sigmaTarget, costRate: costRate,
                    price: close[next * n + i], previousPrice: close[bar * n + i],
                    position: book.base[Self.targetRow * n4 + i],
                    previousPosition: book.base[Self.previousTargetRow * n4 + i],
                    sigma: sigma[bar * n + i], previousSigma: bar > 0 ? sigma[(bar - 1) * n + i] : 0)
            }
            return total
        }
    }

    /// cash / equity at the current bar's close.
    var cashWeight: Double { weight(ofCash: cash, in: equity) }

    func observation() -> MarketObservation {
        MarketObservation(
            storage: storage, bar: bar, window: config.window, width: width, cash: cash, equity: equity,
            observePosition: config.observePosition, observeCash: config.observeCash)
    }
}

/// cash / equity, 0 when equity is 0.
@inline(__always)
func weight(ofCash cash: Double, in equity: Double) -> Double { equity != 0 ? cash / equity : 0 }

/// `body(N, N₄)`; one asset with N = 1 and N₄ = 2 as constants, so that its loops unroll away.
@inline(__always)
func lanes<R>(_ n: Int, _ n4: Int, _ body: (Int, Int) -> R) -> R { n == 1 ? body(1, 2) : body(n, n4) }
