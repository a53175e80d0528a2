/// How orders decided at bar t are filled.
public enum FillTiming: String, Codable, Sendable, CaseIterable {
    /// At bar t+1's open (default): the agent cannot trade at a price it has already seen.
    case nextOpen
    /// At bar t+1's close.
    case nextClose
}

/// What the agent chooses each bar.
public enum ActionKind: String, Codable, Sendable, CaseIterable {
    /// An index into `levels` (one asset), or one index per asset (a panel).
    case discrete
    /// Continuous target weights, one per asset, projected onto the long-only / gross-leverage constraints.
    case weights
}

/// The action set.
public struct ActionConfig: Codable, Equatable, Sendable {
    /// Discrete or continuous target weights.
    public var kind: ActionKind = .discrete
    /// Target weights the discrete actions stand for (default short / flat / long).
    public var levels: [Double] = [-1, 0, 1]
    /// Continuous weights: forbid short positions.
    public var longOnly: Bool = false
    /// Largest Σ|wᵢ| allowed; continuous weights beyond it are scaled down onto it.
    public var maxGrossLeverage: Double = 1

    public init() {}
}

/// The reward scheme; every one is net of costs.
public enum RewardKind: String, Codable, Sendable, CaseIterable {
    /// log(Eₜ₊₁ / Eₜ) of equity (default). Σ over an episode = log(final / initial equity).
    case logReturn
    /// Eₜ₊₁ − Eₜ, in units of `initialCash` (so 0.01 = 1% of the starting capital).
    case pnl
    /// Zhang, Zohren & Roberts (2019) eq. 4: volatility-scaled position P&L minus costs, in units of σ_tgt.
    case volScaled
    /// Moody & Saffell (2001) differential Sharpe ratio of the equity return.
    case differentialSharpe
}

/// Reward parameters.
public struct RewardConfig: Codable, Equatable, Sendable {
    /// Which reward.
    public var kind: RewardKind = .logReturn
    /// Differential Sharpe: adaptation rate η of the moving moments.
    public var dsrEta: Double = 0.01
    /// Volatility-scaled: span of the exponentially weighted std of price changes (α = 2 / (span + 1)).
    public var volSpan: Int = 60
    /// Volatility-scaled: target σ_tgt, in the price-change units of σ (1 makes the reward a z-score-sized P&L).
    public var sigmaTarget: Double = 1
    /// Volatility-scaled: fixed size μ.
    public var mu: Double = 1

    public init() {}
}

/// How chosen positions are sized.
public enum SizingKind: String, Codable, Sendable, CaseIterable {
    /// As chosen.
    case none
    /// Each asset's chosen position × σ_tgt / σₜ (`volatilityTargetScale`).
    case volatilityTarget
}

/// Position sizing: `market.sizing: {kind: volatilityTarget, annualTarget: 0.15, span: 60, maxLeverage: 2}`.
public struct SizingConfig: Codable, Equatable, Sendable {
    /// None, or volatility targeting.
    public var kind: SizingKind = .none
    /// σ_tgt: the annualised volatility each position is sized to.
    public var annualTarget: Double = 0.15
    /// Span of the exponentially weighted std of daily returns (α = 2 / (span + 1)).
    public var span: Int = 60
    /// Largest scale of one position, and of the gross exposure Σ|wᵢ| after scaling.
    public var maxLeverage: Double = 2
    /// Bars a year, to annualise σ (252 for daily bars).
    public var periodsPerYear: Int = 252

    public init() {}
}

/// How an episode is cut from a split.
public enum EpisodeMode: String, Codable, Sendable, CaseIterable {
    /// The whole split, from its first observable bar to its last bar.
    case whole
    /// A window of `length` bars starting at a seeded random bar of the split.
    case random
}

/// Episode boundaries.
public struct EpisodeConfig: Codable, Equatable, Sendable {
    /// Whole split or seeded random windows.
    public var mode: EpisodeMode = .whole
    /// Steps per episode in `random` mode.
    public var length: Int = 252

    public init() {}
}

/// Everything about the market simulation except the data.
public struct MarketConfig: Codable, Equatable, Sendable {
    /// T: bars of features in one observation.
    public var window: Int = 32
    /// The action set.
    public var actions: ActionConfig = ActionConfig()
    /// When orders fill.
    public var fill: FillTiming = .nextOpen
    /// Commission, spread, slippage, borrow.
    public var costs: CostModel = CostModel()
    /// Trade fractional shares (true) or whole shares rounded toward zero (false).
    public var fractionalShares: Bool = true
    /// Starting cash.
    public var initialCash: Double = 100_000
    /// The reward scheme.
    public var reward: RewardConfig = RewardConfig()
    /// Position sizing applied to every chosen target (none, or volatility targeting); costs apply to the sized trades.
    public var sizing: SizingConfig = SizingConfig()
    /// Episode boundaries.
    public var episode: EpisodeConfig = EpisodeConfig()
    /// The episode terminates when equity falls to this fraction of the initial cash or below.
    public var equityFloor: Double = 0.1
    /// Append the current portfolio weights (N) to the observation.
    public var observePosition: Bool = true
    /// Append the cash weight to the observation.
    public var observeCash: Bool = false

    public init() {}
}
