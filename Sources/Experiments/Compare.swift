import Agents
import Foundation
import MarketData
import RLCore
import RunStore
import TradingEnv

/// The bars `tradesim compare` evaluates on: one split, or a list of calendar years.
public enum ComparePeriod: Sendable, Equatable {
    case split(Split)
    case years([Int])

    /// Whether the period is chosen years (`--years`) rather than a split.
    var isYears: Bool { if case .years = self { true } else { false } }
}

/// How a comparison is run.
public struct CompareRequest: Sendable {
    public var period: ComparePeriod
    /// Cost levels in bps for a sweep (see `costs(atBps:)`); empty: the reference environment's own costs.
    public var costLevels: [Double]
    /// Seed of the bootstrap Sharpe intervals (each interval restarts from it, so every row is reproducible).
    public var bootstrapSeed: UInt64
    /// Bootstrap resamples per interval.
    public var resamples: Int
    /// `sizedBaselines`: also run "long" and time-series momentum with the environment's position sizing (volatility
    /// targeting). The other baselines always trade their positions as chosen.
    public var sizedBaselines: Bool

    public init(
        period: ComparePeriod, costLevels: [Double] = [], bootstrapSeed: UInt64 = 0, resamples: Int = 1_000,
        sizedBaselines: Bool = false
    ) {
        self.period = period
        self.costLevels = costLevels
        self.bootstrapSeed = bootstrapSeed
        self.resamples = resamples
        self.sizedBaselines = sizedBaselines
    }
}

/// A policy in a comparison's tables: a run (grouped with the other seeds of its configuration), a stitched
/// walk-forward track, or a baseline.
public struct ComparedPolicy {
    /// The run's name, or the baseline's.
    public var name: String
    /// The row the policy is aggregated into: `experiment/agent #hash` for runs, the baseline's name otherwise.
    public var group: String
    /// Hash of the run's configuration without its seed (nil for a baseline).
    public var configHash: String?
    public var runId: Int64?
    /// The policy's own environment file (features, normaliser); it must hold the same bars as the reference.
    public var setup: MarketSetup

    public var isAgent: Bool { configHash != nil }

    public init(name: String, group: String, configHash: String?, runId: Int64?, setup: MarketSetup) {
        self.name = name
        self.group = group
        self.configHash = configHash
        self.runId = runId
        self.setup = setup
    }
}

/// One policy under comparison and how to run it: one whole episode of the given environment under the policy,
/// every step kept.
public struct Contender {
    public var policy: ComparedPolicy
    public var evaluate: (MarketEnv) -> EpisodeLog
    /// Position sizing to run with instead of the environment's (nil: the environment's).
    public var sizing: SizingConfig?

    public init(
        name: String, group: String, configHash: String? = nil, runId: Int64? = nil, setup: MarketSetup,
        sizing: SizingConfig? = nil, evaluate: @escaping (MarketEnv) -> EpisodeLog
    ) {
        policy = ComparedPolicy(name: name, group: group, configHash: configHash, runId: runId, setup: setup)
        self.sizing = sizing
        self.evaluate = evaluate
    }

    public var name: String { policy.name }
    public var setup: MarketSetup { policy.setup }
    public var runId: Int64? { policy.runId }
    public var isAgent: Bool { policy.isAgent }

    /// A baseline on `setup`, trading its positions as chosen (no sizing).
    public static func baseline(_ kind: Baseline, setup: MarketSetup) -> Contender {
        let train = setup.bars(of: .train)
        return Contender(name: kind.rawValue, group: kind.rawValue, setup: setup, sizing: SizingConfig()) {
            evaluateBaseline(kind, env: $0, train: train)
        }
    }

    /// The baselines of the volatility-targeting literature, with `setup`'s position sizing: "long" (weight 1, or 1/N
    /// of a panel, rebalanced every bar, so the sizing applies at every bar) and time-series momentum (the sign of the
    /// trailing 12-month return).
    public static func sizedBaselines(setup: MarketSetup) -> [Contender] {
        let train = setup.bars(of: .train)
        return [("longVolTarget", Baseline.equalWeight), ("momentumVolTarget", .momentum)].map { name, kind in
            Contender(name: name, group: name, setup: setup) { evaluateBaseline(kind, env: $0, train: train) }
        }
    }

    /// A stored run's greedy policy from its checkpoint (the run's policy; checksums verified).
    public static func run(_ run: RunRecord, store: RunStore) throws -> Contender {
        let saved = try SavedRun(run, store: store)
        let agent = try saved.agent()
        let hash = seedlessConfigHash(run.configJSON)
        return Contender(
            name: run.name, group: "\(run.experiment)/\(run.agent) #\(hash.prefix(8))", configHash: hash,
            runId: run.id, setup: saved.setup
        ) { evaluateAgent(agent, env: $0) }
    }
}

/// A run in the store that counts as a trial for the Deflated Sharpe Ratio, with its last stored evaluation Sharpe.
public struct StoredTrial: Sendable {
    public var runId: Int64
    /// Per-bar Sharpe of its last evaluation on the split (the stored annualised one / √(bars a year)), if logged.
    public var sharpePerBar: Double?
    public init(runId: Int64, sharpePerBar: Double?) { self.runId = runId; self.sharpePerBar = sharpePerBar }
}

/// mean ± sample std (ddof = 1) of one metric over a group's runs; std is nil for fewer than two values.
public struct Stat: Codable, Sendable, Equatable {
    public var mean: Double?
    public var std: Double?
    /// How many runs had the metric defined.
    public var count: Int
    /// How many runs the group has (`count` of them with a value).
    public var runs: Int
    /// Of the runs without a value, how many held no position at all (e.g. a flat policy has no Sharpe ratio).
    public var flat: Int

    /// - Parameters:
    ///   - values: each run's value (nil or non-finite: undefined).
    ///   - flat: whether each run held no position (only read for the runs without a value).
    public init(_ values: [Double?], flat: [Bool] = []) {
        let v = values.compactMap { $0 }.filter(\.isFinite)
        count = v.count
        runs = values.count
        self.flat = zip(values, flat).filter { value, isFlat in isFlat && !(value?.isFinite ?? false) }.count
        mean = v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        if let m = mean, v.count > 1 {
            std = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
        }
    }
}

/// One evaluated stretch of bars of one policy (a year, or all of the period).
public struct SliceResult: Codable, Sendable {
    public var metrics: PerformanceMetrics
    /// Mean per-bar turnover and gross exposure, and the costs paid (currency units).
    public var turnover: Double
    public var exposure: Double
    public var costs: Double
    /// Deflated Sharpe Ratio (runs only; nil for baselines or without enough trials).
    public var dsr: Double?
    /// Seeded stationary-bootstrap 95% interval of the annualised Sharpe ratio.
    public var sharpeInterval: [Double]?
}

/// The headline metrics of the tables, in column order: key (JSON / CSV), column title, value.
public let headlineMetrics: [(key: String, title: String, value: @Sendable (SliceResult) -> Double?)] = [
    ("totalReturn", "total return", { $0.metrics.totalReturn }),
    ("annualReturn", "annual return", { $0.metrics.annualReturn }),
    ("annualVolatility", "volatility", { $0.metrics.annualVolatility }),
    ("sharpe", "sharpe", { $0.metrics.sharpe }),
    ("sortino", "sortino", { $0.metrics.sortino }),
    ("maxDrawdown", "max drawdown", { $0.metrics.maxDrawdown }),
    ("calmar", "calmar", { $0.metrics.calmar }),
    ("hitRate", "hit rate", { $0.metrics.hitRate }),
    ("turnover", "turnover", { $0.turnover }),
    ("exposure", "exposure", { $0.exposure }),
    ("costs", "costs", { $0.costs }),
    ("psr", "psr", { $0.metrics.psr }),
    ("dsr", "dsr", { $0.dsr }),
]

/// One row of a table: a baseline, or a group of runs (one configuration, several seeds) as mean ± std.
public struct CompareRow: Codable, Sendable {
    public var policy: String
    /// `agent` or `baseline`.
    public var kind: String
    public var configHash: String?
    public var runs: [String]
    /// Headline metric key → mean ± std over the group's runs.
    public var stats: [String: Stat]
    /// Mean over the runs of the bootstrap interval's bounds [low, high].
    public var sharpeInterval95: [Double]?
    /// Each run's own results, in `runs` order.
    public var results: [SliceResult]
}

/// One table: a year, or `overall`, at one cost level.
public struct CompareTable: Codable, Sendable {
    /// A year ("2011") or "overall".
    public var period: String
    /// The sweep's cost level, nil when the environment's own costs were used.
    public var costBps: Double?
    /// V: the variance of the trials' per-bar Sharpe ratios used by the DSR of this table (nil: fewer than 2 values).
    public var sharpeVariance: Double?
    public var rows: [CompareRow]
}

/// Where a group's Sharpe edge over one baseline (group mean − baseline, overall) goes as costs rise. `versus` is
/// a baseline's name, or `best baseline`: at each level, the baseline with the highest Sharpe there.
public struct CostEdge: Codable, Sendable {
    public var policy: String
    public var versus: String
    public var costBps: [Double]
    public var edge: [Double?]
    /// Cost where the edge reaches 0 (linear between the first two levels around the sign change); nil when it never
    /// does in the sweep or is gone from the first level.
    public var breakEvenBps: Double?
    /// A sentence: where the edge disappears.
    public var verdict: String
}

/// A whole comparison: every table, the DSR trial count and the cost sweep's edges.
public struct Comparison: Codable {
    /// What was evaluated: the split or years and the dates of the bars.
    public var bars: String
    /// The cost model applied to every policy (or how the sweep sets it).
    public var costs: String
    /// Bars a year of the data, which annualise the metrics (252 for daily bars).
    public var barsPerYear: Double = 252
    /// N: the compared runs with the other runs in the store evaluated on the same years of the same data.
    public var trials: Int
    /// What N counts, in words, with its parts.
    public var trialsDefinition: String
    /// One line per run whose greedy policy took the same action on every bar, e.g. `greedy policy is constant: RUN is
    /// short on 100% of the bars of the validation split` (a collapsed policy is the first thing to know about a
    /// result).
    public var notes: [String] = []
    public var tables: [CompareTable]
    public var edges: [CostEdge]
    /// Every policy's full episode at each cost level ([level][policy]); for reports, not encoded.
    public var episodes: [[(policy: ComparedPolicy, log: EpisodeLog)]] = []

    enum CodingKeys: String, CodingKey {
        case bars, costs, barsPerYear, trials, trialsDefinition, notes, tables, edges
    }

    package init(
        bars: String, costs: String, trials: Int, trialsDefinition: String, tables: [CompareTable],
        edges: [CostEdge]
    ) {
        self.bars = bars
        self.costs = costs
        self.trials = trials
        self.trialsDefinition = trialsDefinition
        self.tables = tables
        self.edges = edges
    }
}

/// The baselines every comparison on `setup` includes: every `Baseline` that applies to its assets but the random one
/// (noise, not a strategy).
public func comparedBaselines(for setup: MarketSetup) -> [Baseline] {
    let assets = setup.dataset.panel.assetCount
    return Baseline.allCases.filter { $0 != .random && $0.applies(toAssets: assets) }
}

/// How a comparison's costs were set, for its header: `base` as configured in the environment file at `path` (shown
/// as `displayPath` shows it), or, when `swept`, the sweep's rule (`costs(atBps:base:)`) with the borrow fee it keeps.
package func costsDescription(_ base: CostModel, path: String, swept: Bool) -> String {
    let path = displayPath(path)
    return swept
        ? "sweep: commission = the level in bps, no spread or slippage, borrow \(base.borrowBpsPerYear) bps/year "
            + "(\(path))"
        : "as in \(path): commission \(base.commissionBps) bps, half-spread \(base.halfSpreadBps) bps, slippage "
            + "\(base.slippageBps) bps + \(base.slippageRangeFraction) of the range, "
            + "borrow \(base.borrowBpsPerYear) bps/year"
}

/// The cost model of one sweep level: `bps` of commission per unit of traded notional, no half-spread and no slippage
/// (so the level is the whole one-way cost of a trade); the short-borrow fee stays as configured.
public func costs(atBps bps: Double, base: CostModel) -> CostModel {
    CostModel(
        commissionBps: bps, halfSpreadBps: 0, slippageBps: 0, slippageRangeFraction: 0,
        borrowBpsPerYear: base.borrowBpsPerYear)
}

/// Hash of a run's resolved configuration without its seed (the `seed` key and the experiment's `seeds` list) and
/// where its outputs go (`store`, `checkpoints`, `tensorboard`), so the seeds of one configuration share it.
public func seedlessConfigHash(_ configJSON: String) -> String {
    guard var object = (try? JSONSerialization.jsonObject(with: Data(configJSON.utf8))) as? [String: Any] else {
        return fnv1aHex(configJSON)
    }
    object["seed"] = nil
    if var experiment = object["experiment"] as? [String: Any] {
        for key in ["seeds", "store", "checkpoints", "tensorboard"] { experiment[key] = nil }
        object["experiment"] = experiment
    }
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
        return fnv1aHex(configJSON)
    }
    return fnv1aHex(String(decoding: data, as: UTF8.self))
}

/// Compares stored runs (ids or name prefixes; the same run twice counts once) on `request.period`.
public func compareRuns(_ references: [String], store: RunStore, request: CompareRequest) throws -> Comparison {
    var runs: [RunRecord] = []
    for r in references {
        let run = try store.run(reference: r)
        if !runs.contains(where: { $0.id == run.id }) { runs.append(run) }
    }
    guard !runs.isEmpty else { throw ConfigError("compare: no runs given") }
    let contenders = try runs.map { try Contender.run($0, store: store) }
    let reference = try storedConfig(of: runs[0], store: store)
    let years: Set<Int>
    switch request.period {
    case .split(let s): years = reference.environment.data.splits.years(of: s)
    case .years(let y): years = Set(y)
    }
    let trials = try storedTrials(
        store: store, fingerprint: reference.dataFingerprint(), years: years, overlapping: request.period.isYears,
        barsPerYear: contenders[0].setup.dataset.panel.barsPerYear)
    return try compare(contenders, reference: contenders[0].setup, request: request, storedTrials: trials)
}

/// The runs of `store` that count as trials for the Deflated Sharpe Ratio of a result on `years` of the data with
/// `fingerprint` (see `ResolvedConfig.dataFingerprint`): the runs of the same data with a validation or test episode
/// on a split configured with exactly those years (or, when `overlapping`, with any of them: a result on chosen
/// years, `compare --years`, counts every run that was evaluated on one of them), each with the per-bar Sharpe of its
/// last evaluation there (the stored annualised `eval/{split}/sharpe` / √`barsPerYear`, the data's); of runs that
/// repeat one configuration, seed and code version (the same bits), only the latest. Without a fingerprint, no stored
/// run can be shown to match.
func storedTrials(
    store: RunStore, fingerprint: String?, years: Set<Int>, overlapping: Bool = false, barsPerYear: Double
) throws -> [StoredTrial] {
    guard let fingerprint else { return [] }
    var trials: [Int64: StoredTrial] = [:], evaluated: [RunRecord] = []
    for split in [Split.validation, .test] {
        let runs = try store.runsEvaluated(on: [EpisodeSplit(rawValue: split.rawValue)!]).filter { run in
            guard let config = try? storedConfig(of: run, store: store) else { return false }
            let evaluated = config.environment.data.splits.years(of: split)
            let matches = overlapping ? !evaluated.isDisjoint(with: years) : evaluated == years
            return matches && config.dataFingerprint() == fingerprint
        }
        let sharpes = try store.lastMetric("eval/\(split.rawValue)/sharpe", runIds: runs.map { $0.id! })
        for run in runs {
            trials[run.id!] = StoredTrial(
                runId: run.id!, sharpePerBar: sharpes[run.id!].map { $0 / barsPerYear.squareRoot() })
        }
        evaluated += runs
    }
    return latestOfRepeats(evaluated).map { trials[$0.id!]! }
}

/// Of runs that repeat one configuration, seed and code version (the same bits, so the same trial), the latest; in
/// id order, each run once.
public func latestOfRepeats(_ runs: [RunRecord]) -> [RunRecord] {
    var latest: [String: RunRecord] = [:]
    for run in runs where (latest[run.configHash + run.codeVersion]?.id ?? -1) < run.id! {
        latest[run.configHash + run.codeVersion] = run
    }
    return latest.values.sorted { $0.id! < $1.id! }
}

extension SplitConfig {
    /// The calendar years configured for `split` (empty when it has none).
    func years(of split: Split) -> Set<Int> {
        let range =
            switch split {
            case .train: train
            case .validation: validation
            case .test: test
            }
        guard range.count == 2, range[0] <= range[1] else { return [] }
        return Set(range[0]...range[1])
    }
}

/// "from the close of FIRST to the close of LAST": the span an episode's returns cover (the first decision's bar,
/// whose close is the equity they start from, to the bar of the last fill and mark).
public func returnsSpan(_ log: EpisodeLog) -> String {
    "from the close of \(DateParser.format(log.firstTimestamp)) to the close of \(DateParser.format(log.lastTimestamp))"
}

/// The bar range of a period in `setup`'s data and the years it asks for (nil: every year in the range).
func periodBars(_ period: ComparePeriod, setup: MarketSetup) throws -> (
    bars: Range<Int>, years: Set<Int>?, name: String
) {
    let t = setup.dataset.panel.timestamps
    switch period {
    case .split(let s):
        let r = setup.bars(of: s)
        guard !r.isEmpty else { throw ConfigError("\(setup.path): the \(s.rawValue) split is empty") }
        return (r, nil, "\(s.rawValue) split")
    case .years(let years):
        guard !years.isEmpty else { throw ConfigError("--years: no year given") }
        let all = t.map(DateParser.year)
        for y in years where !all.contains(y) {
            throw ConfigError(
                "--years: \(y) has no bars in \(setup.dataset.panel.source) (it covers "
                    + "\(all.first ?? 0)–\(all.last ?? 0))"
            )
        }
        let lo = all.firstIndex(of: years.min()!)!, hi = all.lastIndex(of: years.max()!)!
        return (lo..<(hi + 1), Set(years), "years " + years.sorted().map(String.init).joined(separator: ", "))
    }
}

/// Evaluates every contender and every baseline on the period's bars with the same costs (at each sweep level) and
/// builds the per-year and overall tables. `storedTrials` are the store's runs evaluated on the same split(s); with the
/// contenders' runs they make the DSR's N, and V is the variance of the per-bar Sharpe ratios of the contenders' runs
/// on the table's bars (plus, for the overall table of a split, the stored-only trials' last evaluation Sharpe).
public func compare(
    _ agents: [Contender], reference: MarketSetup, request: CompareRequest,
    storedTrials: [StoredTrial] = []
) throws -> Comparison {
    let (bars, years, periodName) = try periodBars(request.period, setup: reference)
    let panel = reference.dataset.panel
    for c in agents
    where c.setup.dataset.panel.timestamps != panel.timestamps || c.setup.dataset.panel.tickers != panel.tickers {
        throw ConfigError(
            "\(c.name): its data (\(c.setup.dataset.panel.source)) differs from \(agents[0].name)'s (\(panel.source)); "
                + "compare runs on the same bars"
        )
    }
    if request.sizedBaselines && reference.spec.market.sizing.kind == .none {
        throw ConfigError("--sizing env: \(reference.path) sizes no positions (market.sizing.kind is none)")
    }
    let contenders =
        agents + comparedBaselines(for: reference).map { Contender.baseline($0, setup: reference) }
        + (request.sizedBaselines ? Contender.sizedBaselines(setup: reference) : [])
    let base = reference.spec.market.costs
    let levels: [Double?] = request.costLevels.isEmpty ? [nil] : request.costLevels.map { $0 }
    let compared = Set(agents.compactMap(\.runId))
    let storedOnly = storedTrials.filter { !compared.contains($0.runId) }
    let comparedCount = compared.count + agents.filter { $0.runId == nil }.count
    let trials = comparedCount + storedOnly.count
    let definition =
        "the \(comparedCount) compared and \(storedOnly.count) other runs in the store evaluated on "
        + (request.period.isYears ? "a split holding one of these years" : "the same years") + " of the same data file"
    var comparison = Comparison(
        bars: "", costs: "", trials: trials, trialsDefinition: definition, tables: [], edges: [])

    for level in levels {
        let model = level.map { costs(atBps: $0, base: base) } ?? base
        let episodes = try contenders.map { c in
            let env = try c.setup.environment(bars: bars, name: periodName) { market in
                market.costs = model
                market.episode.mode = .whole
                if let sizing = c.sizing { market.sizing = sizing }
            }
            return (policy: c.policy, log: c.evaluate(env))
        }
        comparison.episodes.append(episodes)
        var stored: [StoredTrial] = []
        if case .split = request.period { stored = storedOnly }
        comparison.tables += tables(
            episodes, costBps: level, years: years, trials: trials,
            storedSharpes: stored.compactMap(\.sharpePerBar), request: request)
    }
    comparison.notes = constantPolicyNotes(comparison.episodes[0], bars: periodName)
    let log = comparison.episodes[0][0].log  // every contender ran on the same bars
    comparison.bars =
        "\(periodName) of \(displayPath(reference.dataPath)) "
        + "(\(panel.tickers.count == 1 ? panel.tickers[0] : "\(panel.tickers.count) assets"), "
        + returnsSpan(log) + ")" + (annualisationNote(barsPerYear: panel.barsPerYear).map { "; \($0)" } ?? "")
    comparison.barsPerYear = panel.barsPerYear
    comparison.costs = costsDescription(base, path: reference.path, swept: !request.costLevels.isEmpty)
    if levels.count > 1 { comparison.edges = costEdges(comparison.tables.filter { $0.period == "overall" }) }
    return comparison
}

/// The tables of one cost level: one per calendar year of the episodes' steps (those in `years` when given) and one
/// `overall`, each row a group of policies as mean ± std, with the DSR of the agents' results: N = `trials`, V = the
/// variance of the agents' per-bar Sharpe ratios on the table's bars (and, overall, of `storedSharpes`, the other
/// trials' stored Sharpe ratios on the same bars).
package func tables(
    _ episodes: [(policy: ComparedPolicy, log: EpisodeLog)], costBps level: Double?, years: Set<Int>?,
    trials: Int, storedSharpes: [Double], request: CompareRequest
) -> [CompareTable] {
    let stepYears = episodes[0].log.steps.map { DateParser.year($0.timestamp) }
    let tableYears = Array(Set(stepYears)).sorted().filter { years?.contains($0) ?? true }
    var periods = tableYears.map { y in (String(y), Set([y])) }
    periods.append(("overall", years ?? Set(tableYears)))
    return periods.map { name, keep in
        var results = episodes.map { e in
            slice(e.log, keep: keep, seed: request.bootstrapSeed, resamples: request.resamples)
        }
        let sharpes =
            zip(episodes, results).filter { $0.0.policy.isAgent }.compactMap { $0.1.metrics.sharpePerBar }
            + (name == "overall" ? storedSharpes : [])
        let variance = Stat(sharpes).std.map { $0 * $0 }
        for i in results.indices where episodes[i].policy.isAgent {
            if let variance {
                results[i].dsr = deflatedSharpe(results[i].metrics, trials: trials, sharpeVariance: variance)
            }
        }
        return CompareTable(
            period: name, costBps: level, sharpeVariance: variance,
            rows: groupRows(episodes.map(\.policy), results))
    }
}

/// A line for each agent whose logged action is the same on every bar of its episode: the level's name for discrete
/// actions (short, flat, long, or the level's weight), the first asset's target weight otherwise.
package func constantPolicyNotes(_ episodes: [(policy: ComparedPolicy, log: EpisodeLog)], bars: String) -> [String] {
    episodes.compactMap { e in
        guard e.policy.isAgent, let first = e.log.steps.first?.action,
            e.log.steps.allSatisfy({ $0.action.bitPattern == first.bitPattern })
        else { return nil }
        let actions = e.policy.setup.spec.market.actions
        let what: String
        if actions.kind == .discrete, actions.levels.indices.contains(Int(first)) {
            let level = actions.levels[Int(first)]
            what = level == -1 ? "short" : level == 0 ? "flat" : level == 1 ? "long" : "at weight \(level)"
        } else {
            what = "at the same target weights (first asset \(String(format: "%.4g", first)))"
        }
        return "greedy policy is constant: \(e.policy.name) is \(what) on 100% of the bars of the \(bars)"
    }
}

/// A policy's results over the steps whose year is in `keep`.
func slice(_ log: EpisodeLog, keep: Set<Int>, seed: UInt64, resamples: Int) -> SliceResult {
    let idx = log.steps.indices.filter { keep.contains(DateParser.year(log.steps[$0].timestamp)) }
    let returns = idx.map { log.returns[$0] }
    let n = Double(max(idx.count, 1))
    var rng = Xoshiro256(seed: seed)
    let interval = bootstrapSharpeInterval(returns, periods: log.barsPerYear, resamples: resamples, using: &rng)
    return SliceResult(
        metrics: PerformanceMetrics(returns: returns, periods: log.barsPerYear),
        turnover: idx.reduce(0) { $0 + log.turnovers[$1] } / n,
        exposure: idx.reduce(0) { $0 + log.exposures[$1] } / n, costs: idx.reduce(0) { $0 + log.steps[$1].cost },
        dsr: nil, sharpeInterval: interval.map { [$0.lowerBound, $0.upperBound] })
}

/// Rows by group, in order of first appearance: each metric as mean ± std over the group's runs.
func groupRows(_ contenders: [ComparedPolicy], _ results: [SliceResult]) -> [CompareRow] {
    var order: [String] = []
    var members: [String: [Int]] = [:]
    for (i, c) in contenders.enumerated() {
        if members[c.group] == nil { order.append(c.group) }
        members[c.group, default: []].append(i)
    }
    return order.map { g in
        let m = members[g]!
        let rs = m.map { results[$0] }
        var stats: [String: Stat] = [:]
        let flat = rs.map { $0.exposure == 0 }
        for h in headlineMetrics { stats[h.key] = Stat(rs.map(h.value), flat: flat) }
        let lows = Stat(rs.map { $0.sharpeInterval?[0] }).mean, highs = Stat(rs.map { $0.sharpeInterval?[1] }).mean
        let c = contenders[m[0]]
        return CompareRow(
            policy: g, kind: c.isAgent ? "agent" : "baseline", configHash: c.configHash,
            runs: m.map { contenders[$0].name },
            stats: stats, sharpeInterval95: lows.flatMap { l in highs.map { [l, $0] } }, results: rs)
    }
}

/// Each agent group's Sharpe edge at every level of the sweep (overall tables, one per level) over the best baseline
/// of each level and over each baseline.
package func costEdges(_ overall: [CompareTable]) -> [CostEdge] {
    let levels = overall.compactMap(\.costBps)
    guard let first = overall.first else { return [] }
    let baselines = first.rows.filter { $0.kind == "baseline" }.map(\.policy)
    func sharpe(_ policy: String, _ t: CompareTable) -> Double? {
        t.rows.first { $0.policy == policy }?.stats["sharpe"]?.mean
    }
    let best = "best baseline"
    return first.rows.filter { $0.kind == "agent" }.map(\.policy).flatMap { g in
        ([best] + baselines).map { versus in
            let edge: [Double?] = overall.map { t in
                let reference = versus == best ? baselines.compactMap { sharpe($0, t) }.max() : sharpe(versus, t)
                guard let a = sharpe(g, t), let b = reference else { return nil }
                return a - b
            }
            return costEdge(policy: g, versus: versus, levels: levels, edge: edge)
        }
    }
}

/// Where `edge` (one value per level) turns non-positive, as a `CostEdge`.
func costEdge(policy: String, versus: String, levels: [Double], edge: [Double?]) -> CostEdge {
    var breakEven: Double?
    let verdict: String
    if let e0 = edge.first ?? nil, e0 <= 0 {
        verdict = "no edge over \(versus) even at \(bps(levels[0]))"
    } else if let k = edge.firstIndex(where: { ($0 ?? 1) <= 0 }), k > 0, let e1 = edge[k - 1], let e2 = edge[k] {
        breakEven = levels[k - 1] + (levels[k] - levels[k - 1]) * e1 / (e1 - e2)
        verdict = String(format: "edge over %@ gone at %@ (break-even ≈ %.1f bps)", versus, bps(levels[k]), breakEven!)
    } else if edge.allSatisfy({ $0 == nil }) {
        verdict = "no Sharpe ratio to compare"
    } else {
        verdict = "edge over \(versus) kept up to \(bps(levels.last ?? 0))"
    }
    return CostEdge(
        policy: policy, versus: versus, costBps: levels, edge: edge, breakEvenBps: breakEven,
        verdict: verdict)
}

func bps(_ x: Double) -> String { (x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)) + " bps" }
