import Foundation

/// Output formats of `tradesim compare`.
public enum CompareFormat: String, Codable, Sendable, CaseIterable {
    /// Aligned plain-text tables (the default).
    case table
    case markdown
    /// One CSV table: a row per (period, cost level, policy), `{metric}_mean` and `{metric}_std` columns.
    case csv
    /// The whole `Comparison` as one JSON object.
    case json
}

extension Comparison {
    /// The comparison in `format`.
    public func rendered(_ format: CompareFormat) throws -> String {
        switch format {
        case .table: return text(markdown: false)
        case .markdown: return "# Comparison\n\n" + text(markdown: true)
        case .csv: return csvTable.csv
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        }
    }

    /// Headed tables, one per period and cost level, then the cost sweep's edges; Markdown headings at `level`.
    func text(markdown: Bool, level: Int = 2) -> String {
        let heading = String(repeating: "#", count: level)
        var out = (markdown ? "- bars: " : "bars:   ") + bars + "\n"
        out += (markdown ? "- costs: " : "costs:  ") + costs + "\n"
        out += (markdown ? "- " : "") + "DSR trials N = \(trials): \(trialsDefinition)\n"
        for note in notes { out += (markdown ? "- " : "") + note + "\n" }
        for t in tables {
            let title =
                t.period + (t.costBps.map { ", costs \(bps($0))" } ?? "")
                + ", V[SR] = " + (t.sharpeVariance.map { String(format: "%.3g", $0) } ?? "n/a")
            out += markdown ? "\n\(heading) \(title)\n\n\(t.table.markdown)\n" : "\n\(title)\n\(t.table.plain)\n"
        }
        if !edges.isEmpty {
            var e = TextTable(
                header: ["policy", "versus"] + (edges.first?.costBps ?? []).map { "edge @ \(bps($0))" }
                    + ["where the edge goes"])
            for edge in edges { e.append([edge.policy, edge.versus] + edge.edge.map { cell($0) } + [edge.verdict]) }
            let title = "Sharpe edge over the baselines by cost level"
            out += markdown ? "\n\(heading) \(title)\n\n\(e.markdown)\n" : "\n\(title)\n\(e.plain)\n"
        }
        return out
    }

    /// Every table's rows in one CSV table.
    var csvTable: TextTable {
        var header = ["period", "cost_bps", "policy", "kind", "config_hash", "runs", "trials"]
        for h in headlineMetrics { header += [h.key + "_mean", h.key + "_std"] }
        header += ["sharpe_ci95_low", "sharpe_ci95_high"]
        var t = TextTable(header: header)
        for table in tables {
            for r in table.rows {
                var row = [
                    table.period, table.costBps.map { "\($0)" } ?? "", r.policy, r.kind, r.configHash ?? "",
                    r.runs.joined(separator: " "), "\(trials)",
                ]
                for h in headlineMetrics {
                    row += [r.stats[h.key]?.mean.map { "\($0)" } ?? "", r.stats[h.key]?.std.map { "\($0)" } ?? ""]
                }
                row += [r.sharpeInterval95.map { "\($0[0])" } ?? "", r.sharpeInterval95.map { "\($0[1])" } ?? ""]
                t.append(row)
            }
        }
        return t
    }
}

extension CompareTable {
    /// The table as text cells: `mean ± std` for groups of several runs.
    public var table: TextTable {
        var t = TextTable(header: ["policy", "runs"] + headlineMetrics.map(\.title) + ["sharpe 95% CI"])
        for r in rows {
            t.append(
                [r.policy, "\(r.runs.count)"]
                    + headlineMetrics.map { h in cell(r.stats[h.key], money: h.key == "costs") }
                    + [r.sharpeInterval95.map { String(format: "[%.2f, %.2f]", $0[0], $0[1]) } ?? "n/a"])
        }
        return t
    }
}

/// `mean ± std` (std only with two or more runs), `n/a` when undefined. Runs without a value are never dropped
/// silently: `−0.4400 (1 of 2 seeds; 1 flat)`, `n/a (flat)`.
public func cell(_ s: Stat?, money: Bool = false) -> String {
    guard let s else { return "n/a" }
    let f = money ? "%.0f" : "%.4f"
    let value = s.mean.map { m in String(format: f, m) + (s.std.map { " ± " + String(format: f, $0) } ?? "") } ?? "n/a"
    let missing = s.runs - s.count
    guard missing > 0 else { return value }
    let reasons = [s.flat > 0 ? "\(s.flat) flat" : nil, missing > s.flat ? "\(missing - s.flat) n/a" : nil]
        .compactMap { $0 }.joined(separator: ", ")
    if s.runs == 1 { return s.flat == 1 ? "n/a (flat)" : "n/a" }
    return value + " (\(s.count) of \(s.runs) seeds; \(reasons))"
}

func cell(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "n/a" }
