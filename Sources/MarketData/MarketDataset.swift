import Foundation

/// Everything the trading environment needs from one data file: the validated panel, the side series read beside it,
/// what loading did, the split ranges, the raw features and the train-fitted normaliser with the features it produces.
public struct MarketDataset: Sendable {
    /// The configuration the dataset was built with.
    public var config: DataConfig
    /// The aligned, validated bars (D, N).
    public var panel: Panel
    /// The side series as read (`config.side`, same order), on their own dates.
    public var side: [SideSeries]
    /// Rows read, dropped, repaired; filled cells; dropped assets.
    public var report: LoadReport
    /// Train / validation / test bar ranges into `panel`.
    public var splits: SplitRanges
    /// Walk-forward windows (empty unless `walkForward.trainYears > 0`).
    public var walkForward: [WalkForwardWindow]
    /// Raw features (D, F), causal.
    public var features: FeatureMatrix
    /// Per-column mean/std fitted on the train rows at or after `features.warmup`, frozen.
    public var normaliser: Normaliser
    /// `normaliser` applied to `features` (D, F): what observations are made of (start at `features.warmup`).
    public var observations: FeatureMatrix

    /// Several lines for `tradesim check-env`: file, assets, date range, bars per split, what loading repaired,
    /// and the range of each normalised feature kind over the train rows.
    public var summary: String {
        let p = panel, r = report
        func dates(_ range: Range<Int>) -> String {
            range.isEmpty
                ? "none"
                : "\(DateParser.format(p.timestamps[range.lowerBound]))"
                    + "..\(DateParser.format(p.timestamps[range.upperBound - 1])) (\(range.count) bars)"
        }
        var lines = [
            "file: \(r.file) (dates "
                + "\(r.dateFormat.rawValue)\(r.closeOnly ? ", close only: open = high = low = close, volume 0" : ""))",
            "assets (\(p.assetCount)): \(p.tickers.prefix(12).joined(separator: " "))\(p.assetCount > 12 ? " …" : "")",
            "bars: \(dates(0..<p.barCount))",
            "train: \(dates(splits.train)); validation: \(dates(splits.validation)); test: \(dates(splits.test))",
            "rows: \(r.rowsRead) read, \(r.rowsOutsideSelection) outside the selection, \(r.rowsDropped) dropped "
                + "(\(r.nullRows) null), \(r.rowsRepaired) repaired; \(r.filledCells) cells forward-filled",
        ]
        if !r.droppedAssets.isEmpty {
            lines.append("dropped assets (they start after the first bar): \(r.droppedAssets.joined(separator: " "))")
        }
        if r.trimmedBars > 0 { lines.append("calendar trimmed by \(r.trimmedBars) bars to the span all assets cover") }
        if !walkForward.isEmpty {
            lines.append(
                "walk-forward: \(walkForward.count) windows, first train \(walkForward[0].trainYears) test "
                    + "\(walkForward[0].testYears)"
            )
        }
        let n = p.assetCount, kinds = config.features.assetColumns, k = kinds.count
        let frames = 1 + config.timeframes.count, market = config.features.marketColumns.count
        var shape = "\(n) assets × \(k)\(frames > 1 ? " × \(frames) time frames" : "")"
        if market > 0 { shape += " + \(market) calendar" }
        let sideWidth = features.width - n * k * frames - market
        if sideWidth > 0 { shape += " + \(sideWidth) of side series \(side.map(\.name).joined(separator: ", "))" }
        lines.append(
            "features: \(features.width) = \(shape), warm-up \(features.warmup) bars; "
                + "normaliser fitted on bars \(normaliser.fittedRows)")
        let first = features.warmup < p.barCount ? DateParser.format(p.timestamps[features.warmup]) : "none"
        let parts = features.warmups.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { "\($0.key) \($0.value)" }
        lines.append("warm-up: first observable bar \(first) (bars of look-back: \(parts.joined(separator: ", ")))")
        for (f, kind) in kinds.enumerated() {
            if kind == Feature.observed.name {  // the mask, not standardised: the fitted rows' carried cells
                let rows = normaliser.fittedRows
                let carried = rows.reduce(0) { sum, t in sum + (0..<n).count { features[t, $0 * k + f] == 0 } }
                lines.append("  \(kind): 0 or 1, not standardised; \(carried) of \(rows.count * n) train cells carried")
                continue
            }
            var mean = 0.0, std = 0.0
            for i in 0..<n { mean += normaliser.mean[i * k + f]; std += normaliser.std[i * k + f] }
            let count = Double(max(n, 1))
            lines.append("  \(kind): train mean \(fmt(mean / count)), std \(fmt(std / count)) (averaged over assets)")
        }
        // The calendar's columns (after the assets') and the side series' (last), one by one.
        for j in Array((n * k)..<(n * k + market)) + Array((features.width - sideWidth)..<features.width) {
            lines.append("  \(features.names[j]): train mean \(fmt(normaliser.mean[j])), std \(fmt(normaliser.std[j]))")
        }
        // The most extreme normalised value after the warm-up: where outliers or a bad bar would show first.
        var extreme: (value: Float, index: Int) = (0, -1)
        let start = observations.warmup * observations.width
        for j in start..<observations.values.count where abs(observations.values[j]) > abs(extreme.value) {
            extreme = (observations.values[j], j)
        }
        if extreme.index >= 0 {
            let row = extreme.index / observations.width, column = extreme.index % observations.width
            lines.append(
                "  largest |normalised value|: \(fmt(Double(extreme.value))) (\(observations.names[column]) on "
                    + "\(DateParser.format(p.timestamps[row])))"
            )
        }
        return lines.joined(separator: "\n")
    }

    private func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
}

/// Loads `config.file` (relative to `baseDirectory` unless absolute): parses and validates the CSV, aligns the assets,
/// computes the split ranges, the features and the normaliser fitted on the train split. Every problem is thrown as a
/// `MarketDataError` whose description is one line naming the file (and row and column where there is one).
///
/// Pass the `normaliser` saved with a trained model to evaluate it on other bars (for example later years in another
/// file): it is applied as it is, nothing is refitted, and the train split may then be unset (`splits.train: []`).
public func loadMarket(_ config: DataConfig, baseDirectory: String, normaliser frozen: Normaliser? = nil) throws
    -> MarketDataset
{
    let path = config.file.hasPrefix("/") || baseDirectory.isEmpty ? config.file : baseDirectory + "/" + config.file
    var (panel, report) = try loadPanel(path: path, config: config)
    report.file = config.file
    let side = try config.side.map { try SideSeries.load($0, baseDirectory: baseDirectory) }
    return try buildDataset(panel, side: side, report: report, config: config, normaliser: frozen)
}

/// Splits, features (with `config.timeframes`, then the `side` series' blocks, read per `config.side`) and the
/// normaliser (fitted on the train split unless `frozen` is given) of an already loaded panel: the whole pipeline from
/// bars to observations, which `tradesim audit` re-runs on perturbed bars.
public func buildDataset(
    _ panel: Panel, side: [SideSeries] = [], report: LoadReport, config: DataConfig,
    normaliser frozen: Normaliser? = nil
) throws -> MarketDataset {
    guard config.barsPerYear >= 0, config.barsPerYear.isFinite else {
        throw MarketDataError(
            "DataConfig: barsPerYear \(config.barsPerYear) must be ≥ 0 (0: from the bars' spacing, 252 for daily bars)")
    }
    var panel = panel
    if config.barsPerYear > 0 { panel.barsPerYear = config.barsPerYear }
    let splits = try Splits.ranges(config.splits, timestamps: panel.timestamps, requireTrain: frozen == nil)
    let walkForward = try Splits.walkForward(config.walkForward, timestamps: panel.timestamps)
    var features = try Timeframes.features(panel, config: config.features, timeframes: config.timeframes)
    guard side.count == config.side.count else {
        throw MarketDataError("DataConfig: side lists \(config.side.count) series but \(side.count) were read")
    }
    var taken = Set(panel.tickers + ["calendar", "basket"])
    for s in side where !taken.insert(s.name).inserted {
        throw MarketDataError(
            "DataConfig: side series name '\(s.name)' is taken "
                + "(by a ticker, another series, 'calendar' or 'basket'); set its name")
    }
    if !side.isEmpty {
        let blocks = try zip(side, config.side).map { try $0.features(at: panel.timestamps, config: $1) }
        features = FeatureMatrix.concatenated([features] + blocks)
    }
    let normaliser = try frozen ?? Normaliser.fit(features, rows: splits.train)
    return MarketDataset(
        config: config, panel: panel, side: side, report: report, splits: splits,
        walkForward: walkForward, features: features, normaliser: normaliser,
        observations: try normaliser.apply(features))
}

/// Parses and validates one CSV / `.csv.gz` file and aligns its assets into a panel (no splits or features).
/// `config.file` is the name used in messages (`path` when empty); `path` is what is read.
public func loadPanel(path: String, config: DataConfig) throws -> (panel: Panel, report: LoadReport) {
    var named = config
    if named.file.isEmpty { named.file = path }
    var (assets, report) = try CSVLoader(name: named.file, config: named).load(path: path)
    let panel = try Alignment.panel(assets, config: named, report: &report)
    assets = []  // free the per-asset copies before the caller builds features
    return (panel, report)
}
