import Foundation
import MarketData

/// The report's charts as inline SVG: line charts (with shaded bands, markers and reference lines) and grouped bar
/// charts. Plain SVG 1.1 text, no script and no external reference, so the HTML stays self-contained.
enum SVG {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static let size = (width: 960.0, height: 300.0)
    /// Plot area margins: left, right, top, bottom.
    static let margin = (left: 70.0, right: 250.0, top: 28.0, bottom: 34.0)

    /// One line: (x, y) points, drawn in order.
    struct Series {
        var name: String
        var x: [Double]
        var y: [Double]
        var color: String
        var dashed = false
        var width = 1.5
    }

    /// A shaded stretch of x (e.g. a long or short position).
    struct Band { var x0: Double; var x1: Double; var color: String }

    /// A point marker: an up triangle (buy) or a down triangle (sell).
    struct Marker { var x: Double; var y: Double; var up: Bool }

    /// How x values are labelled.
    enum XAxis { case time, number }

    /// A line chart; `hLines` are dashed reference levels (e.g. 0 or 0.95).
    static func lines(_ title: String, _ series: [Series], xAxis: XAxis = .time, yFormat: String = "%.3g",
                      bands: [Band] = [], markers: [Marker] = [], hLines: [Double] = [], legend: [(String, String)] = []) -> String {
        let xs = series.flatMap(\.x), ys = series.flatMap(\.y).filter(\.isFinite) + hLines + markers.map(\.y)
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return empty(title) }
        let frame = Frame(x: x0...(x1 > x0 ? x1 : x0 + 1), y: padded(y0, y1))
        var s = open(title)
        for b in bands {
            s += "<rect x=\"\(f(frame.px(b.x0)))\" y=\"\(f(margin.top))\" width=\"\(f(max(frame.px(b.x1) - frame.px(b.x0), 0.5)))\" height=\"\(f(frame.plotHeight))\" fill=\"\(b.color)\" fill-opacity=\"0.18\"/>"
        }
        s += axes(frame, xAxis: xAxis, yFormat: yFormat)
        for h in hLines where frame.y.contains(h) {
            s += "<line x1=\"\(f(margin.left))\" x2=\"\(f(size.width - margin.right))\" y1=\"\(f(frame.py(h)))\" y2=\"\(f(frame.py(h)))\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>"
        }
        for line in series {
            let points = zip(line.x, line.y).filter { $0.1.isFinite }.map { "\(f(frame.px($0.0))),\(f(frame.py($0.1)))" }
            s += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"\(line.width)\"\(line.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(points.joined(separator: " "))\"/>"
        }
        for m in markers {
            let (x, y) = (frame.px(m.x), frame.py(m.y)), d = m.up ? 5.0 : -5.0
            s += "<path d=\"M\(f(x)),\(f(y + d)) l-4,\(f(d)) l8,0 z\" fill=\"\(m.up ? "#2ca02c" : "#d62728")\"/>"
        }
        s += legendBox(series.map { ($0.name, $0.color) } + legend)
        return s + "</svg>"
    }

    /// A grouped bar chart: one group per category, one bar per series; nil values are left out.
    static func bars(_ title: String, categories: [String], _ series: [(name: String, values: [Double?])], yFormat: String = "%.3g",
                     hLines: [Double] = []) -> String {
        let values = series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite) + hLines + [0]
        guard !categories.isEmpty, let lo = values.min(), let hi = values.max() else { return empty(title) }
        let frame = Frame(x: 0...Double(categories.count), y: padded(lo, hi))
        var s = open(title) + axes(frame, xAxis: nil, yFormat: yFormat)
        let groupWidth = frame.plotWidth / Double(categories.count), barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        for (c, name) in categories.enumerated() {
            let left = margin.left + Double(c) * groupWidth
            s += "<text x=\"\(f(left + groupWidth / 2))\" y=\"\(f(size.height - margin.bottom + 14))\" text-anchor=\"middle\">\(escape(name))</text>"
            for (k, line) in series.enumerated() {
                guard c < line.values.count, let v = line.values[c], v.isFinite else { continue }
                let top = frame.py(max(v, 0)), bottom = frame.py(min(v, 0))
                s += "<rect x=\"\(f(left + groupWidth * 0.1 + Double(k) * barWidth))\" y=\"\(f(top))\" width=\"\(f(barWidth))\" height=\"\(f(max(bottom - top, 0.5)))\" fill=\"\(palette[k % palette.count])\"><title>\(escape(line.name)) \(escape(name)): \(String(format: yFormat, v))</title></rect>"
            }
        }
        for h in hLines where frame.y.contains(h) {
            s += "<line x1=\"\(f(margin.left))\" x2=\"\(f(size.width - margin.right))\" y1=\"\(f(frame.py(h)))\" y2=\"\(f(frame.py(h)))\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>"
        }
        s += legendBox(series.enumerated().map { ($0.element.name, palette[$0.offset % palette.count]) })
        return s + "</svg>"
    }

    /// A histogram of `values` in `bins` equal-width bins, one series per entry (same bins for all).
    static func histogram(_ title: String, _ series: [(name: String, values: [Double])], bins: Int = 30) -> String {
        let all = series.flatMap(\.values).filter(\.isFinite)
        guard let lo = all.min(), let hi = all.max() else { return empty(title) }
        let width = max(hi - lo, 1e-12) / Double(bins)
        let counts = series.map { s in
            var c = [Double](repeating: 0, count: bins)
            for v in s.values where v.isFinite { c[min(Int((v - lo) / width), bins - 1)] += 1 }
            return c
        }
        let lines = zip(series, counts).enumerated().map { k, sc in
            // a step outline per series: left edge, flat top over each bin, right edge
            var x: [Double] = [lo], y: [Double] = [0]
            for (b, n) in sc.1.enumerated() { x += [lo + Double(b) * width, lo + Double(b + 1) * width]; y += [n, n] }
            x.append(lo + Double(bins) * width); y.append(0)
            return Series(name: sc.0.name, x: x, y: y, color: palette[k % palette.count])
        }
        return SVG.lines(title, lines, xAxis: .number, yFormat: "%.0f")
    }

    /// A chart frame with no data.
    static func empty(_ title: String) -> String {
        open(title) + "<text x=\"\(f(size.width / 2))\" y=\"\(f(size.height / 2))\" text-anchor=\"middle\" fill=\"#777\">no data</text></svg>"
    }

    // MARK: - Pieces

    /// Maps data coordinates to pixels.
    struct Frame {
        var x: ClosedRange<Double>
        var y: ClosedRange<Double>
        var plotWidth: Double { size.width - margin.left - margin.right }
        var plotHeight: Double { size.height - margin.top - margin.bottom }
        func px(_ v: Double) -> Double { margin.left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * plotWidth }
        func py(_ v: Double) -> Double { margin.top + (y.upperBound - v) / (y.upperBound - y.lowerBound) * plotHeight }
    }

    static func padded(_ lo: Double, _ hi: Double) -> ClosedRange<Double> {
        let pad = hi > lo ? (hi - lo) * 0.05 : max(abs(hi) * 0.05, 1e-9)
        return (lo - pad)...(hi + pad)
    }

    static func open(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(size.width)) \(Int(size.height))\" width=\"\(Int(size.width))\" height=\"\(Int(size.height))\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">"
            + "<title>\(escape(title))</title><rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
            + "<text x=\"\(f(margin.left))\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
    }

    /// Frame, grid and tick labels (5 y ticks; x ticks as years or numbers, none for bar charts).
    static func axes(_ frame: Frame, xAxis: XAxis?, yFormat: String) -> String {
        let (l, r, t, b) = (margin.left, size.width - margin.right, margin.top, size.height - margin.bottom)
        var s = "<rect x=\"\(f(l))\" y=\"\(f(t))\" width=\"\(f(r - l))\" height=\"\(f(b - t))\" fill=\"none\" stroke=\"#999\"/>"
        for k in 0...4 {
            let v = frame.y.lowerBound + Double(k) / 4 * (frame.y.upperBound - frame.y.lowerBound), y = frame.py(v)
            s += "<line x1=\"\(f(l))\" x2=\"\(f(r))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(l - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(escape(String(format: yFormat, v)))</text>"
        }
        switch xAxis {
        case .time?:
            // a tick at each quarter over up to three years, else at each new year (at most about ten)
            let first = DateParser.year(Int64(frame.x.lowerBound)), last = DateParser.year(Int64(frame.x.upperBound))
            var ticks: [(Double, String)] = []
            if last - first < 3 {
                for year in first...last {
                    for month in [1, 4, 7, 10] { ticks.append((Double(monthStart(year, month)), month == 1 ? String(year) : "\(year)-\(month < 10 ? "0" : "")\(month)")) }
                }
            } else {
                let step = max(1, (last - first + 1) / 10)
                for year in stride(from: first + 1, through: last, by: step) {
                    ticks.append((Double(monthStart(year, 1)), String(year)))
                }
            }
            for (v, label) in ticks where frame.x.contains(v) {
                s += "<line x1=\"\(f(frame.px(v)))\" x2=\"\(f(frame.px(v)))\" y1=\"\(f(t))\" y2=\"\(f(b))\" stroke=\"#eee\"/>"
                s += "<text x=\"\(f(frame.px(v)))\" y=\"\(f(b + 14))\" text-anchor=\"middle\">\(label)</text>"
            }
        case .number?:
            let span = frame.x.upperBound - frame.x.lowerBound
            for k in 0...4 {
                let v = frame.x.lowerBound + Double(k) / 4 * span
                let label = span >= 100 ? String(Int(v.rounded())) : String(format: "%.3g", v)
                s += "<text x=\"\(f(frame.px(v)))\" y=\"\(f(b + 14))\" text-anchor=\"middle\">\(escape(label))</text>"
            }
        case nil:
            break
        }
        return s
    }

    static func legendBox(_ entries: [(String, String)]) -> String {
        var s = ""
        for (k, (name, color)) in entries.enumerated() {
            let y = margin.top + 6 + Double(k) * 15, x = size.width - margin.right + 10
            s += "<rect x=\"\(f(x))\" y=\"\(f(y - 8))\" width=\"12\" height=\"8\" fill=\"\(color)\"/>"
            s += "<text x=\"\(f(x + 16))\" y=\"\(f(y))\">\(escape(name.count > 40 ? name.prefix(39) + "…" : name))</text>"
        }
        return s
    }

    /// Unix seconds of the first day of `month` in `year`, 00:00 UTC.
    static func monthStart(_ year: Int, _ month: Int) -> Int64 {
        var c = DateComponents()
        c.year = year; c.month = month; c.day = 1
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return Int64(calendar.date(from: c)!.timeIntervalSince1970)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
