/// "1 run", "3 runs", "0 runs": a count with its noun, the plural formed with an s unless given.
public func plural(_ count: Int, _ noun: String, _ plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
}

/// A table of strings rendered as aligned plain text, Markdown or CSV (the output formats of `runs`, `compare`,
/// `replay`).
public struct TextTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(header: [String]) { self.header = header }

    public mutating func append(_ row: [String]) {
        precondition(row.count == header.count, "row of \(row.count) cells for \(header.count) columns")
        rows.append(row)
    }

    /// Columns padded to their widest cell; numbers (cells starting with a digit, sign or dot) right-aligned.
    public var plain: String {
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.indices.map { c in
                let cell = cells[c], pad = String(repeating: " ", count: widths[c] - cell.count)
                let numeric = cell.first.map { $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." } ?? false
                return numeric ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return
            ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }

    /// A GitHub-flavoured Markdown table (pipes in cells escaped).
    public var markdown: String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        return ([line(header), "|" + header.map { _ in "---" }.joined(separator: "|") + "|"] + rows.map(line)).joined(
            separator: "\n")
    }

    /// RFC 4180 CSV (fields with commas, quotes or line breaks quoted).
    public var csv: String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
