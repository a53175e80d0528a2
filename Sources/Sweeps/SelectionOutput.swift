import Experiments
import Foundation
import MarketData

extension SweepResults {
    /// The ranking: rank, configuration, keys, seeds, the metric and the Sharpe ratio (mean ± std over seeds).
    public var table: TextTable {
        let sharpe = metric == .sharpe ? [] : ["sharpe"]
        var t = TextTable(header: ["rank", "config", "keys", "runs", "\(metric.rawValue) (mean ± std)"] + sharpe)
        for (k, r) in ranking.enumerated() {
            t.append(
                ["\(k + 1)", "\(r.configuration)", r.assignments, "\(r.runs.count)", cell(r.metric)]
                    + (sharpe.isEmpty ? [] : [cell(r.sharpe)]))
        }
        return t
    }

    /// The ranking for CSV readers (as compare's): each metric as `_mean` and `_std` numbers (empty when undefined)
    /// with its seeds with a value (`_count`) and the flat ones (`_flat`); the runs' names separated by spaces.
    var csvTable: TextTable {
        let metrics = [metric.rawValue] + (metric == .sharpe ? [] : ["sharpe"])
        var t = TextTable(
            header: ["rank", "config", "keys", "runs"]
                + metrics.flatMap { [$0 + "_mean", $0 + "_std", $0 + "_count", $0 + "_flat"] })
        for (k, r) in ranking.enumerated() {
            let stats = [r.metric] + (metric == .sharpe ? [] : [r.sharpe])
            t.append(
                ["\(k + 1)", "\(r.configuration)", r.assignments, r.runs.joined(separator: " ")]
                    + stats.flatMap {
                        [$0.mean.map { "\($0)" } ?? "", $0.std.map { "\($0)" } ?? "", "\($0.count)", "\($0.flat)"]
                    })
        }
        return t
    }

    /// What the selection amounts to: the selected configuration, its DSR with N and V, and the PBO with its parts.
    public var summaryLines: [String] {
        let s = ranking[0]
        var lines = [
            "validation bars: \(bars), from the close of \(firstDate) to the close of \(lastDate)"
                + (annualisationNote(barsPerYear: barsPerYear).map { " (\($0))" } ?? "") + "; "
                + "ranked by mean validation \(metric.rawValue) over seeds",
            "selected: configuration \(s.configuration) (\(s.assignments)), \(metric.rawValue) \(cell(s.metric))",
            "DSR of its seeds: \(cell(dsr.dsr)) with N = \(dsr.trials) trials (\(dsr.sweepTrials) of this sweep, "
                + "\(dsr.trials - dsr.sweepTrials) other runs in the store on the same years of the same data), "
                + "V = \(dsr.sharpeVariance.map { String(format: "%.3g", $0) } ?? "n/a"), SR₀ = "
                + (dsr.benchmark.map {
                    String(format: "%.4f per bar (%.2f annualised)", $0, $0 * barsPerYear.squareRoot())
                }
                    ?? "n/a"),
        ]
        if let o = overfitting {
            lines.append(
                "PBO = \(String(format: "%.3f", o.pbo)) over \(o.combinations) CSCV splits (S = \(o.blocks) blocks of "
                    + "\(o.barsUsed / o.blocks) bars, \(o.trials) configurations, each the mean of its seeds' returns)")
            lines.append(
                "rank correlation of in- and out-of-sample Sharpe across the splits: mean Spearman ρ = "
                    + (o.meanRankCorrelation.map { String(format: "%.3f", $0) } ?? "n/a")
                    + "; degradation: OOS = " + (o.degradationIntercept.map { String(format: "%.4f", $0) } ?? "n/a")
                    + (o.degradationSlope.map { ($0 < 0 ? " − " : " + ") + String(format: "%.3f", abs($0)) } ?? " + n/a")
                    + " × IS (per-bar "
                    + "Sharpe of the in-sample best); P[OOS Sharpe < 0] = "
                    + "\(String(format: "%.3f", o.probabilityOfLoss))"
            )
        } else if let note = overfittingNote {
            lines.append("PBO: n/a (\(note))")
        }
        return lines
    }

    /// The logits' histogram as text: one line per bin with a bar of `#`.
    public var logitHistogram: [String] {
        guard let o = overfitting else { return [] }
        let bins = o.histogram(bins: 10), most = max(bins.map(\.count).max() ?? 1, 1)
        return ["logits λ of the selected configuration's out-of-sample rank (λ ≤ 0: at or below the median):"]
            + bins.map { b in
                String(format: "  [%6.2f, %6.2f)  %6d  ", b.lower, b.upper, b.count)
                    + String(repeating: "#", count: Int((Double(b.count) / Double(most) * 40).rounded()))
            }
    }

    /// The results as text, Markdown, CSV (the ranking) or JSON (everything).
    public func rendered(_ format: CompareFormat) throws -> String {
        switch format {
        case .table:
            return summaryLines.joined(separator: "\n") + "\n\n" + table.plain + "\n\n"
                + logitHistogram.joined(separator: "\n")
                + "\n"
        case .markdown:
            return "# Sweep \(sweep)\n\n" + summaryLines.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
                + table.markdown + "\n\n```\n" + logitHistogram.joined(separator: "\n") + "\n```\n"
        case .csv:
            return csvTable.csv
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "inf", negativeInfinity: "-inf",
                nan: "nan")
            return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
        }
    }

    /// The HTML report: the summary, the ranking and the logits' histogram.
    public var html: String {
        htmlPage(
            title: "Sweep \(sweep)", lines: summaryLines, tables: [("Ranking", table)],
            histograms: overfitting.map { [("Logits of the CSCV splits", $0.logits, "λ = log(ω̄ / (1 − ω̄))")] } ?? [])
    }
}
