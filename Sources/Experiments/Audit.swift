import Foundation
import MarketData
import RLCore
import Yams

/// One leakage check of `tradesim audit`.
public struct AuditCheck: Sendable {
    public enum Outcome: String, Sendable {
        case pass = "PASS"
        case fail = "FAIL"
        case skip = "SKIP"
    }
    public var outcome: Outcome
    public var name: String
    public var detail: String
    /// `PASS name: detail`.
    public var line: String { "\(outcome.rawValue) \(name): \(detail)" }
}

/// Leakage checks on an environment's data, by re-running the pipeline from bars to observations on altered bars:
/// - splits are ordered (train < validation < test in time) and disjoint;
/// - the normaliser's statistics equal those fitted on the train years' bars alone (the data cut after train);
/// - perturbing every bar after a cut point (and every side-series value known only after its close) leaves the raw
///   features of every bar up to it unchanged, and (for cut points after the train split, where the frozen normaliser
///   cannot move) the normalised observations too;
/// - for each side series alone, perturbing its values known only after a cut point's close leaves every feature up to
///   the cut point unchanged: a value is seen from the first bar that closes after it is known, never earlier;
/// - each coarser time frame's columns at bar t are unchanged when every bar of t's own period (and later) is
///   perturbed, t itself included: a period is visible only after its last bar;
/// - event labels (when given) leave out the last `horizon` bars of each split and do not move when the bars after the
///   split are perturbed.
/// `pipeline` is the code under audit (default: `buildDataset`, what `MarketSetup` runs); tests pass a leaky one.
public struct LeakageAudit {
    public typealias Pipeline = (Panel, [SideSeries], DataConfig) throws -> MarketDataset

    public let dataset: MarketDataset
    public let config: DataConfig
    public let labels: EventLabelConfig?
    public let pipeline: Pipeline
    /// Cut points per check (half in the train split, half after it): at most `maxCuts` and `cuttableBars`.
    public var cuts = 8
    /// The most cut points a check takes: each re-runs the data pipeline, so a thousand take seconds on one asset's
    /// decades of daily bars and minutes on a panel's.
    public static let maxCuts = 1_000
    public var seed: UInt64 = 0

    public init(
        dataset: MarketDataset, config: DataConfig, labels: EventLabelConfig? = nil,
        pipeline: @escaping Pipeline = { try buildDataset($0, side: $1, report: LoadReport(), config: $2) }
    ) {
        self.dataset = dataset; self.config = config; self.labels = labels; self.pipeline = pipeline
    }

    /// Runs every check; each is one line of the report. More `cuts` than `cuttableBars` is an error naming `--cuts`.
    public func run() throws -> [AuditCheck] {
        guard cuts <= cuttableBars else {
            throw ConfigError(
                "--cuts \(cuts): the data has \(cuttableBars) bars to cut at (after the feature warm-up, before the "
                    + "last bar but one)")
        }
        var rng = Xoshiro256(seed: seed)
        return [
            splitOrder(), try normaliserFit(), try futurePerturbation(&rng), try sideSeriesVisibility(&rng),
            try timeframeVisibility(&rng), try eventLabels(&rng),
        ]
    }

    var panel: Panel { dataset.panel }

    func check(_ name: String, _ problems: [String], _ passed: String) -> AuditCheck {
        problems.isEmpty
            ? AuditCheck(outcome: .pass, name: name, detail: passed)
            : AuditCheck(
                outcome: .fail, name: name,
                detail: problems.prefix(3).joined(separator: "; ")
                    + (problems.count > 3 ? " (+\(problems.count - 3) more)" : ""))
    }

    func date(_ t: Int) -> String { panel.dateText(ofBar: t) }

    func splitOrder() -> AuditCheck {
        let s = dataset.splits
        let named = [("train", s.train), ("validation", s.validation), ("test", s.test)].filter { !$0.1.isEmpty }
        var problems: [String] = []
        for (a, b) in zip(named, named.dropFirst()) where a.1.upperBound > b.1.lowerBound {
            problems.append("\(a.0) bars \(a.1) overlap or follow \(b.0) bars \(b.1)")
        }
        let text = named.map { "\($0.0) \(date($0.1.lowerBound))..\(date($0.1.upperBound - 1))" }.joined(
            separator: ", ")
        return check("splits", problems, "\(text): ordered, no bar in two splits")
    }

    /// The panel's first `bars` bars.
    func prefix(_ bars: Int) -> Panel {
        let n = panel.assetCount, cells = bars * n
        return Panel(
            source: panel.source, tickers: panel.tickers, timestamps: Array(panel.timestamps[..<bars]),
            open: Array(panel.open[..<cells]), high: Array(panel.high[..<cells]), low: Array(panel.low[..<cells]),
            close: Array(panel.close[..<cells]), volume: Array(panel.volume[..<cells]),
            observed: Array(panel.observed[..<cells]))
    }

    func normaliserFit() throws -> AuditCheck {
        let train = dataset.splits.train
        var trainOnly = config
        trainOnly.splits.validation = []; trainOnly.splits.test = []
        let refit = try pipeline(prefix(train.upperBound), dataset.side, trainOnly)
        var problems: [String] = []
        let n = dataset.normaliser
        if refit.normaliser.fittedRows != n.fittedRows {
            problems.append("fitted on bars \(n.fittedRows), train-only fit uses \(refit.normaliser.fittedRows)")
        }
        for j in n.mean.indices where n.mean[j] != refit.normaliser.mean[j] || n.std[j] != refit.normaliser.std[j] {
            problems.append(
                "\(n.names[j]): mean \(n.mean[j]) std \(n.std[j]) but from the train bars alone "
                    + "\(refit.normaliser.mean[j]) / \(refit.normaliser.std[j])"
            )
        }
        return check(
            "normaliser", problems,
            "mean and std of all \(n.mean.count) columns equal a fit on the train bars alone "
                + "(\(date(train.lowerBound))..\(date(train.upperBound - 1)))"
        )
    }

    /// `panel` with every bar from `first` on scaled by a random factor per bar and asset (prices) and per bar
    /// (volume).
    static func perturbed(_ panel: Panel, from first: Int, using rng: inout Xoshiro256) -> Panel {
        var p = panel
        let n = panel.assetCount
        for k in (first * n)..<(panel.barCount * n) {
            let f = Foundation.exp(Double.random(in: -0.1...0.1, using: &rng))
            p.open[k] *= f; p.high[k] *= f; p.low[k] *= f; p.close[k] *= f
            p.volume[k] *= Double.random(in: 0.5...2, using: &rng)
        }
        return p
    }

    /// The bars a cut point can fall on (`cutPoints`), at least 1.
    var cuttableBars: Int { max(panel.barCount - 1 - max(dataset.features.warmup, 1), 1) }

    func cutPoints(_ rng: inout Xoshiro256) -> [Int] {
        let d = panel.barCount, train = dataset.splits.train
        let lo = max(dataset.features.warmup, 1), mid = max(lo, train.upperBound - 1)
        var cuts: [Int] = []
        let after = mid < d - 2  // bars after the train split to cut in
        for i in 0..<self.cuts {
            let range = i % 2 == 0 || !after ? lo..<max(lo + 1, min(mid, d - 1)) : mid..<(d - 1)
            cuts.append(min(Int.random(in: range, using: &rng), d - 2))
        }
        return cuts
    }

    func futurePerturbation(_ rng: inout Xoshiro256) throws -> AuditCheck {
        var problems: [String] = []
        let trainEnd = dataset.splits.train.upperBound
        let cuts = cutPoints(&rng)
        for c in cuts {
            let side = dataset.side.map { perturbed($0, after: c, using: &rng) }
            let other = try pipeline(Self.perturbed(panel, from: c + 1, using: &rng), side, config)
            let w = dataset.features.width, upto = (c + 1) * w
            if let j = (0..<upto).first(where: { dataset.features.values[$0] != other.features.values[$0] }) {
                problems.append(
                    "feature \(dataset.features.names[j % w]) at \(date(j / w)) changes when the bars "
                        + "after \(date(c)) change"
                )
            } else if c >= trainEnd - 1,
                let j = (0..<upto).first(where: { dataset.observations.values[$0] != other.observations.values[$0] })
            {
                problems.append(
                    "normalised \(dataset.features.names[j % w]) at \(date(j / w)) changes when the bars "
                        + "after \(date(c)) change"
                )
            }
        }
        let dates = cuts.sorted().map(date).joined(separator: ", ")
        return check(
            "future bars", problems,
            "perturbing every bar (and side-series value) after \(cuts.count) cut "
                + "points (\(dates)) leaves all earlier features and, after the train split, "
                + "the normalised observations unchanged")
    }

    /// `series` with every value known only after bar `c`'s close (its time plus its own period later than bar c's
    /// time plus the bars' period) scaled by a random factor.
    func perturbed(_ series: SideSeries, after c: Int, using rng: inout Xoshiro256) -> SideSeries {
        let close = panel.timestamps[c] + SideSeries.period(panel.timestamps)
        let own = SideSeries.period(series.timestamps)
        var s = series
        for j in s.values.indices where s.timestamps[j] + own > close {
            s.values[j] *= Foundation.exp(Double.random(in: -0.1...0.1, using: &rng))
        }
        return s
    }

    func sideSeriesVisibility(_ rng: inout Xoshiro256) throws -> AuditCheck {
        guard !dataset.side.isEmpty else {
            return AuditCheck(outcome: .skip, name: "side series", detail: "none configured (data.side)")
        }
        var problems: [String] = []
        let w = dataset.features.width
        let cuts = cutPoints(&rng)
        for (k, series) in dataset.side.enumerated() {
            for c in cuts {
                var side = dataset.side
                side[k] = perturbed(series, after: c, using: &rng)
                let other = try pipeline(panel, side, config)
                let upto = (c + 1) * w
                if let j = (0..<upto).first(where: { dataset.features.values[$0] != other.features.values[$0] }) {
                    problems.append(
                        "\(dataset.features.names[j % w]) at \(date(j / w)) changes when the values of "
                            + "\(series.name) known after \(date(c))'s close change")
                }
            }
        }
        let names = dataset.side.map(\.name).joined(separator: ", ")
        return check(
            "side series", problems,
            "\(names): perturbing the values known only after the close of "
                + "\(cuts.count) cut points leaves every feature up to them unchanged")
    }

    func timeframeVisibility(_ rng: inout Xoshiro256) throws -> AuditCheck {
        guard !config.timeframes.isEmpty else {
            return AuditCheck(outcome: .skip, name: "time frames", detail: "none configured (data.timeframes)")
        }
        var problems: [String] = []
        let w = dataset.features.width
        let cuts = cutPoints(&rng)
        for frame in config.timeframes {
            let columns = dataset.features.names.indices.filter {
                dataset.features.names[$0].contains(".\(frame.rawValue).")
            }
            for c in cuts {
                let period = frame.period(of: panel.timestamps[c])
                var first = c
                while first > 0 && frame.period(of: panel.timestamps[first - 1]) == period { first -= 1 }
                let other = try pipeline(Self.perturbed(panel, from: first, using: &rng), dataset.side, config)
                if let j = columns.first(where: {
                    dataset.features.values[c * w + $0] != other.features.values[c * w + $0]
                }) {
                    problems.append(
                        "\(dataset.features.names[j]) at \(date(c)) changes when the bars of its own \(frame.rawValue) "
                            + "period (from \(date(first))) change"
                    )
                }
            }
        }
        return check(
            "time frames", problems,
            "\(config.timeframes.map(\.rawValue).joined(separator: ", ")) columns at \(cuts.count) cut points do not "
                + "move when the current period's bars (the cut bar included) change: "
                + "visible only after the period closed"
        )
    }

    func eventLabels(_ rng: inout Xoshiro256) throws -> AuditCheck {
        guard let config = labels else {
            return AuditCheck(
                outcome: .skip, name: "event labels",
                detail: "none configured (audit a pretrain file to check its labels)")
        }
        let base = try EventLabels.compute(panel, side: dataset.side, config: config)
        var problems: [String] = []
        let s = dataset.splits
        for (name, split) in [("train", s.train), ("validation", s.validation), ("test", s.test)] where !split.isEmpty {
            let kept = base.labelledBars(in: split)
            if kept.upperBound + config.horizon > split.upperBound {
                problems.append(
                    "\(name): labelled bars run to \(kept.upperBound - 1), within \(config.horizon) bars of the "
                        + "split's end \(split.upperBound - 1)"
                )
            }
            guard split.upperBound < panel.barCount else { continue }
            let side = dataset.side.map { perturbed($0, after: split.upperBound - 1, using: &rng) }
            let other = try EventLabels.compute(
                Self.perturbed(panel, from: split.upperBound, using: &rng), side: side,
                config: config)
            if let t = kept.first(where: { base.values[$0] != other.values[$0] }) {
                problems.append("\(name): the label at \(date(t)) changes when the bars after the split change")
            }
        }
        return check(
            "event labels", problems,
            "the last \(config.horizon) bars of each split are dropped; "
                + "labels do not move when the bars after their split change"
        )
    }
}

/// `tradesim audit FILE`: an environment file, or a pretrain file (its environment, and its labels checked too).
public func auditFile(_ path: String, cuts: Int = 8, seed: UInt64 = 0) throws -> [AuditCheck] {
    let isPretrain = try StrictYAML.document(path).mapping?["labels"] != nil
    var environmentPath = path
    var labels: EventLabelConfig?
    if isPretrain {
        let spec = try PretrainSpec.load(path)
        let folder = (path as NSString).deletingLastPathComponent
        environmentPath =
            spec.environment.hasPrefix("/") || folder.isEmpty ? spec.environment : folder + "/" + spec.environment
        labels = spec.labels
    }
    let setup = try MarketSetup(path: environmentPath)
    var audit = LeakageAudit(dataset: setup.dataset, config: setup.spec.data, labels: labels)
    audit.cuts = cuts
    audit.seed = seed
    do { return try audit.run() } catch let error as MarketDataError {
        throw ConfigError("\(environmentPath): data: \(error.description)")
    }
}
