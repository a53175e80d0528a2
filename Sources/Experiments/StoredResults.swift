import Foundation
import MarketData
import RunStore

/// A run's stored evaluation of a split, read back from the store without re-running the policy: its last
/// episode of that split (the run's policy at the end of training), bar by bar.
public struct StoredEvaluation: Sendable {
    public let run: RunRecord
    public let split: Split
    /// The decision bars' dates (the step rows' timestamps) and the per-bar simple returns of equity after costs,
    /// the first against the initial cash, as `EpisodeLog.returns` computed them.
    public let timestamps: [Int64]
    /// The bar the episode started from (its first return runs from this bar's close).
    public let start: Int64
    public let returns: [Double]
    /// Bars a year of the run's data: its data config's `barsPerYear`, else as the steps' spacing gives it.
    public let barsPerYear: Double
    public var metrics: PerformanceMetrics { PerformanceMetrics(returns: returns, periods: barsPerYear) }

    /// - Throws: `RunStateError` when the run has no episode of `split` or did not keep its steps.
    public init(_ run: RunRecord, split: Split, store: RunStore) throws {
        guard let episode = try store.episodes(runId: run.id!, split: EpisodeSplit(rawValue: split.rawValue)!).last
        else { throw RunStateError("\(store.path): run \(run.name) has no \(split.rawValue) episode") }
        let steps = try store.steps(episodeId: episode.id!)
        guard steps.count == Int(episode.steps) else {
            throw RunStateError(
                "\(store.path): run \(run.name): its \(split.rawValue) episode keeps \(steps.count) of "
                    + "\(episode.steps) steps")
        }
        let config = try storedConfig(of: run, store: store)
        var previous = config.environment.market.initialCash
        var returns: [Double] = []
        returns.reserveCapacity(steps.count)
        for s in steps {
            returns.append(s.equity / previous - 1)
            previous = s.equity
        }
        self.run = run
        self.split = split
        self.returns = returns
        timestamps = steps.map(\.timestamp)
        start = episode.firstTimestamp
        let configured = config.environment.data.barsPerYear
        barsPerYear = configured > 0 ? configured : MarketData.barsPerYear(timestamps: timestamps)
    }
}

/// The runs of `store` that count as trials for the Deflated Sharpe Ratio of `run`'s result on `split`: those
/// evaluated on the same years of the same data (see `storedTrials`; `barsPerYear` of that data), `run` among them
/// when it was.
public func trials(like run: RunRecord, on split: Split, barsPerYear: Double, store: RunStore) throws -> [StoredTrial] {
    let config = try storedConfig(of: run, store: store)
    return try storedTrials(
        store: store, fingerprint: config.dataFingerprint(),
        years: config.environment.data.splits.years(of: split), barsPerYear: barsPerYear)
}
