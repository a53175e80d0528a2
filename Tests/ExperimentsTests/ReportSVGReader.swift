import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One chart of a report, read back from its SVG by an XML parser.
struct ParsedChart {
    /// One axis: its kind (x: `time`, `number` or `category`; y: `number`), tick labels and title texts.
    struct Axis { var kind = ""; var ticks: [String] = []; var titles: [String] = [] }

    var title = ""
    var width = 0.0
    /// True for a "no data" frame (no axes).
    var empty = false
    /// "x" and "y".
    var axes: [String: Axis] = [:]
    /// Legend names, and how far right the longest one reaches (x + 7 px per character).
    var legend: [String] = []
    var legendRight = 0.0
    var polylines = 0, dots = 0, trades = 0, areas = 0
}

/// Reads every `<svg>…</svg>` of a report page (each is well-formed XML; the HTML around it need not be).
func parsedCharts(_ html: String) throws -> [ParsedChart] {
    try html.components(separatedBy: "<svg").dropFirst().map { tail in
        let svg = "<svg" + tail.components(separatedBy: "</svg>")[0] + "</svg>"
        let reader = SVGReader()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = reader
        guard parser.parse() else {
            throw ReportParseError(description: "\(parser.parserError.map { "\($0)" } ?? "?"): \(svg.prefix(200))")
        }
        return reader.chart
    }
}

struct ReportParseError: Error, CustomStringConvertible { var description: String }

/// Collects a chart's texts by the class of the `<g>` they are in (`axis x …`, `axis y …`, `legend`) and their own.
final class SVGReader: NSObject, XMLParserDelegate {
    var chart = ParsedChart()
    private var groups: [String] = []
    private var textClass: String?
    private var textX = 0.0
    private var text = ""

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let cls = attributes["class"] ?? ""
        switch name {
        case "svg": chart.width = Double(attributes["width"] ?? "") ?? 0
        case "g": groups.append(cls)
        case "text":
            textClass = cls
            textX = Double(attributes["x"] ?? "") ?? 0
            text = ""
        case "polyline": chart.polylines += 1
        case "circle" where cls == "dot": chart.dots += 1
        case "path" where cls == "trade": chart.trades += 1
        case "polygon" where cls == "area": chart.areas += 1
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if textClass != nil { text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "g": groups.removeLast()
        case "text":
            let group = (groups.last ?? "").split(separator: " ").map(String.init)
            if group.first == "axis", group.count >= 2 {
                var axis = chart.axes[group[1]] ?? ParsedChart.Axis(kind: group.count > 2 ? group[2] : "number")
                if textClass == "tick" { axis.ticks.append(text) }
                if textClass == "axis-title" { axis.titles.append(text) }
                chart.axes[group[1]] = axis
            } else if group.first == "legend" {
                chart.legend.append(text)
                chart.legendRight = max(chart.legendRight, textX + 7 * Double(text.count))
            } else if textClass == "chart-title" {
                chart.title = text
            } else if textClass == "empty" {
                chart.empty = true
            }
            textClass = nil
        default: break
        }
    }
}

/// Whether tick labels are round numbers: at least two, equally spaced by a step of 1, 2, 2.5 or 5 × 10ᵏ, each a whole
/// multiple of the step.
func roundTicks(_ labels: [String]) -> Bool {
    let v = labels.compactMap(Double.init)
    guard v.count == labels.count, v.count >= 2 else { return false }
    let step = v[1] - v[0]
    guard step > 0 else { return false }
    let mantissa = step / pow(10, (log10(step) + 1e-9).rounded(.down))
    return [1, 2, 2.5, 5].contains { abs($0 - mantissa) < 1e-6 }
        && zip(v, v.dropFirst()).allSatisfy { abs($1 - $0 - step) < step * 1e-6 }
        && v.allSatisfy { abs(($0 / step).rounded() - $0 / step) < 1e-6 }
}

/// The checks every report chart passes: an x and a y axis, each with one non-empty title (y: with its unit in
/// parentheses); numeric ticks round; legend names whole and inside the chart. Returns the failures.
func chartProblems(_ chart: ParsedChart) -> [String] {
    guard !chart.empty else { return [] }
    var problems: [String] = []
    for name in ["x", "y"] {
        guard let axis = chart.axes[name] else { problems.append("\(chart.title): no \(name) axis"); continue }
        let problem = { (what: String) in problems.append("\(chart.title): \(name) axis: \(what)") }
        if axis.titles.count != 1 || axis.titles[0].isEmpty { problem("titles \(axis.titles)") }
        if name == "y", !(axis.titles.first ?? "").contains("(") { problem("title without a unit") }
        if axis.kind == "number", !roundTicks(axis.ticks) { problem("ticks \(axis.ticks)") }
        if axis.ticks.isEmpty { problem("no ticks") }
    }
    if chart.legend.contains(where: { $0.contains("…") }) || chart.legendRight > chart.width {
        problems.append("\(chart.title): legend cut or out of the chart: \(chart.legend)")
    }
    return problems
}
