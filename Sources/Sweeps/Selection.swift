import Experiments
import Foundation
import MarketData
import RunStore

/// The metrics a sweep's configurations can be ranked by.
public enum SelectionMetric: String, Codable, Sendable, CaseIterable {
    case sharpe, sortino, calmar, totalReturn, annualReturn

    func value(_ m: PerformanceMetrics) -> Double? {
        switch self {
        case .sharpe: m.sharpe
        case .sortino: m.sortino
        case .calmar: m.calmar
        case .totalReturn: m.totalReturn
        case .annualReturn: m.annualReturn
        }
    }
}

/// One configuration of a sweep on the validation bars: its key values, its runs (one per seed) and the metric over
/// them.
public struct ConfigurationResult: Codable, Sendable {
    public var configuration: Int
    /// `key=value …`.
    public var assignments: String
    public var runs: [String]
    /// The ranking metric, mean ± std over the seeds (each seed's metric on its validation bars, the walk-forward
    /// windows' validation years joined in order).
    public var metric: Stat
    /// The annualised Sharpe ratio, mean ± std over the seeds.
    public var sharpe: Stat
}

/// The Deflated Sharpe Ratio of the selected configuration's seeds.
public struct SelectionDSR: Codable, Sendable {
    /// N: this sweep's tracks (configuration × seed) with the other runs in the store evaluated on the same years of
    /// the same data (none for a walk-forward sweep, whose tracks join several windows).
    public var trials: Int
    public var sweepTrials: Int
    /// V: the variance of the N trials' per-bar Sharpe ratios.
    public var sharpeVariance: Double?
    /// SR₀ per bar: the best Sharpe ratio N unskilled trials would reach.
    public var benchmark: Double?
    /// The DSR of each seed of the selected configuration, as mean ± std.
    public var dsr: Stat
}

/// `tradesim sweep results`: a sweep's configurations ranked by their mean validation metric over seeds, the
/// selected (best) one with its Deflated Sharpe Ratio, and the Probability of Backtest Overfitting of the selection
/// by combinatorially symmetric cross-validation, from the configurations × validation-bars matrix of returns (each
/// column the mean of its seeds' returns at each bar).
public struct SweepResults: Codable, Sendable {
    public var sweep: String
    public var metric: SelectionMetric
    /// The validation bars: how many, and the closes their returns run from and to.
    public var bars: Int
    public var firstDate: String
    public var lastDate: String
    /// Bars a year of the data, which annualise the metrics.
    public var barsPerYear: Double
    /// Best first.
    public var ranking: [ConfigurationResult]
    public var selected: Int
    public var dsr: SelectionDSR
    /// Nil with fewer than two configurations (there is no selection to overfit) or too few bars for the blocks.
    public var overfitting: BacktestOverfitting?
    /// Why `overfitting` is nil, if it is.
    public var overfittingNote: String?

    /// - Parameter blocks: S, the CSCV blocks (even, 2 to 20).
    public init(_ name: String, store: RunStore, metric: SelectionMetric = .sharpe, blocks: Int = 16) throws {
        let sweep = try store.sweep(named: name)
        let trials = try store.trials(sweepId: sweep.id!)
        let unfinished = trials.filter { $0.status != .finished }
        guard unfinished.isEmpty else {
            throw RunStateError(
                "sweep \(name): \(unfinished.count) of \(trials.count) trials have not finished "
                    + "(tradesim sweep status \(name))"
            )
        }
        // Each configuration's seeds, each seed's windows joined in window order.
        var seeds: [Int64: [Int64: (runs: [RunRecord], returns: [Double], dates: [Int64])]] = [:]
        var assignments: [Int64: String] = [:]
        var dataPeriods: Double?  // bars a year of the data, the same for every trial's
        var start: Int64?  // the close the first validation return runs from
        for t in trials.sorted(by: {
            ($0.configuration, $0.seed, $0.window ?? 0) < ($1.configuration, $1.seed, $1.window ?? 0)
        }) {
            let run = try store.run(id: t.runId!)
            let evaluation = try StoredEvaluation(run, split: .validation, store: store)
            dataPeriods = dataPeriods ?? evaluation.barsPerYear
            start = start ?? evaluation.start
            var entry = seeds[t.configuration, default: [:]][t.seed] ?? ([], [], [])
            entry.runs.append(run)
            entry.returns += evaluation.returns
            entry.dates += evaluation.timestamps
            seeds[t.configuration, default: [:]][t.seed] = entry
            assignments[t.configuration] = describeAssignments(t.assignmentsJSON, keepingWindows: false)
        }
        let configurations = seeds.keys.sorted()
        let dates = seeds[configurations[0]]!.values.first!.dates
        let periods = dataPeriods!
        barsPerYear = periods
        for c in configurations {
            for (seed, entry) in seeds[c]! where entry.dates != dates {
                throw RunStateError(
                    "sweep \(name): configuration \(c) seed \(seed) was evaluated on other validation bars")
            }
        }
        let results: [ConfigurationResult] = configurations.map { c in
            let entries = seeds[c]!.keys.sorted().map { seeds[c]![$0]! }
            let metrics = entries.map { PerformanceMetrics(returns: $0.returns, periods: periods) }
            let flat = entries.map { isFlat($0.returns) }
            return ConfigurationResult(
                configuration: Int(c), assignments: assignments[c] ?? "",
                runs: entries.flatMap { $0.runs.map(\.name) },
                metric: Stat(metrics.map(metric.value), flat: flat), sharpe: Stat(metrics.map(\.sharpe), flat: flat))
        }
        let ranked = results.sorted { ($0.metric.mean ?? -.infinity) > ($1.metric.mean ?? -.infinity) }
        let best = seeds[Int64(ranked[0].configuration)]!

        // DSR: this sweep's tracks (configuration × seed, the windows joined) and, without walk-forward windows, the
        // store's other runs evaluated on the same years of the same data.
        let tracks = configurations.flatMap { c in
            seeds[c]!.values.map { PerformanceMetrics(returns: $0.returns, periods: periods) }
        }
        let own = Set(trials.compactMap(\.runId))
        let isWalkForward = trials.contains { $0.window != nil }
        let stored =
            isWalkForward
            ? []
            : try Experiments.trials(
                like: try store.run(id: trials[0].runId!),
                on: .validation, barsPerYear: periods, store: store
            )
            .filter { !own.contains($0.runId) }
        let variance = Stat(tracks.map(\.sharpePerBar) + stored.map(\.sharpePerBar)).std.map { $0 * $0 }
        let n = tracks.count + stored.count
        let chosenEntries = best.keys.sorted().map { best[$0]! }
        let chosen = chosenEntries.map { PerformanceMetrics(returns: $0.returns, periods: periods) }
        dsr = SelectionDSR(
            trials: n, sweepTrials: tracks.count, sharpeVariance: variance,
            benchmark: variance.map { deflatedSharpeBenchmark(trials: n, sharpeVariance: $0) },
            dsr: Stat(
                chosen.map { m in variance.flatMap { deflatedSharpe(m, trials: n, sharpeVariance: $0) } },
                flat: chosenEntries.map { isFlat($0.returns) }))

        // PBO over the configurations, each the mean of its seeds' returns at every bar.
        let matrix = configurations.map { c in
            let entries = Array(seeds[c]!.values)
            return (0..<dates.count).map { t in entries.reduce(0) { $0 + $1.returns[t] } / Double(entries.count) }
        }
        if matrix.count < 2 {
            overfittingNote = "one configuration: nothing was selected, so nothing can be overfitted"
        } else if Set(matrix).count < 2 {
            overfittingNote =
                "the \(matrix.count) configurations' validation returns are identical bar for bar: they tie, so none "
                + "was selected over another"
        } else {
            do { overfitting = try backtestOverfitting(returns: matrix, blocks: blocks) } catch {
                overfittingNote = "\(error)"
            }
        }
        self.sweep = name
        self.metric = metric
        ranking = ranked
        selected = ranked[0].configuration
        bars = dates.count
        firstDate = DateParser.format(start ?? 0)
        lastDate = DateParser.format(dates.last ?? 0)
    }
}

/// `key=value …` of stored assignments (what a walk-forward window sets, its splits and `evaluateOn`, left out unless
/// asked for; the checkpoint folder, which every trial of a sweep shares, always).
func describeAssignments(_ json: String, keepingWindows: Bool) -> String {
    guard let pairs = try? assignments(fromJSON: json) else { return json }
    return describe(
        pairs.filter { p in
            p.path != "checkpoints"
                && (keepingWindows || (p.path != "environment.data.splits" && p.path != "evaluateOn"))
        })
}

/// The test split's one look at a sweep (`tradesim sweep results --test`): the selected configuration's runs (or,
/// with `unselected`, configuration `configuration`'s) evaluated on the test split with every step logged. A run
/// that was evaluated on the test split before is not evaluated again; every look stays in the store as the runs'
/// test episodes, so later DSRs on the test years count it. Returns the looked-at runs, and how many of them had
/// been looked at before (their recorded episodes stand; nothing new was seen).
public func lookAtTest(_ name: String, configuration: Int? = nil, unselected: Bool = false, store: RunStore)
    throws -> (runs: [RunRecord], before: Int)
{
    let target = try SweepResults(name, store: store).testLook(configuration: configuration, unselected: unselected)
    let trials = try store.trials(sweepId: try store.sweep(named: name).id!)
    guard !trials.contains(where: { $0.window != nil }) else {
        throw ConfigError(
            "sweep \(name) is walk-forward: each window was evaluated on its own test years; see them "
                + "stitched with tradesim compare --sweep \(name)")
    }
    var before = 0
    let runs = try trials.filter { $0.configuration == Int64(target) }.map { t in
        let run = try store.run(id: t.runId!)
        if try store.episodes(runId: run.id!, split: .test).isEmpty {
            _ = try evaluateRun("\(run.id!)", split: .test, store: store)
        } else {
            before += 1
        }
        return run
    }
    return (runs, before)
}

extension SweepResults {
    /// The configuration a look at the test split is for: `configuration` (which needs `unselected` unless it is the
    /// selected one) or the selected one; anything else is an error naming --configuration.
    public func testLook(configuration: Int?, unselected: Bool) throws -> Int {
        let target = configuration ?? selected
        guard ranking.contains(where: { $0.configuration == target }) else {
            throw ConfigError("--configuration \(target): sweep \(sweep) has configurations 0…\(ranking.count - 1)")
        }
        guard target == selected || unselected else {
            throw ConfigError(
                "--configuration \(target) is not the selected configuration \(selected): looking at it on the "
                    + "test split needs --unselected (the look is recorded and counts as a trial)")
        }
        return target
    }
}

/// Whether a stored evaluation's returns are all exactly 0: the policy held no position (costs would make a trade's
/// return non-zero), so its Sharpe ratio is undefined because it was flat, and the tables say "flat".
func isFlat(_ returns: [Double]) -> Bool { returns.allSatisfy { $0 == 0 } }
