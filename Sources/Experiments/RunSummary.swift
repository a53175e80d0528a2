import Foundation
import RunStore

/// What `train`, `train --resume` and `evaluate` print at the end: for each split, the runs' greedy policies next to
/// the baselines at the same costs (`compareRuns`: one row per configuration, mean ± std over its seeds), and the same
/// as a Markdown report that says what was run: the configurations' hashes, seeds, step budgets, data file, dates
/// and costs.
public struct RunSummary {
    public let runs: [RunRecord]
    public let comparisons: [(split: Split, comparison: Comparison)]

    /// Compares `runs` (of one store) on each of `splits`.
    public init(runs: [RunRecord], splits: [Split], store: RunStore) throws {
        self.runs = runs
        comparisons = try splits.map { split in
            (
                split,
                try compareRuns(runs.map { "\($0.id!)" }, store: store, request: CompareRequest(period: .split(split)))
            )
        }
    }

    /// The tables as text, one per split.
    public var text: String {
        comparisons.map { split, c in
            "\n\(split.rawValue) split, greedy policy vs baselines:\n" + c.text(markdown: false)
        }.joined()
    }

    /// The report: a header listing the runs and their configuration, then each split's tables.
    public func markdown(title: String) throws -> String {
        var out = "# \(title)\n\n"
        for run in runs {
            let config = try ResolvedConfig.stored(run.configJSON)
            let spec = config.experiment, data = config.environment.data
            out +=
                "- run `\(run.name)`: \(run.status.rawValue), seed \(run.seed), configuration "
                + "`\(seedlessConfigHash(run.configJSON).prefix(8))` (hash of the resolved config without seed and "
                + "outputs), agent `\(run.agent)`, \(spec.steps) steps (checkpoint every \(spec.checkpointInterval)"
                + (spec.evaluateEvery > 0 ? ", validation every \(spec.evaluateEvery)" : "") + ")\n"
            out +=
                "  - data `\(displayPath(dataFilePath(data, folder: config.environmentFolder)))` (SHA-256 "
                + "\(config.dataSHA256.map { String($0.prefix(12)) } ?? "not recorded")…), train "
                + "\(years(data.splits.train)), validation \(years(data.splits.validation)), test "
                + "\(years(data.splits.test))\n"
        }
        for (split, c) in comparisons {
            out += "\n## \(split.rawValue) split\n\n" + c.text(markdown: true, level: 3)
        }
        return out
    }

    func years(_ range: [Int]) -> String { range.count == 2 ? "\(range[0])–\(range[1])" : "none" }
}
