import Foundation
import MarketData

/// The report's charts as inline SVG: line charts (with shaded bands, trade markers and reference lines), grouped bar
/// charts, histograms and stacked areas. Plain SVG 1.1 text, no script and no external reference, so the HTML stays
/// self-contained.
///
/// Every chart has an x and a y axis, each a `<g class="axis x|y …">` holding its tick labels (`text.tick`) and one
/// title with units (`text.axis-title`); numeric ticks are round (1, 2, 2.5 or 5 × 10ᵏ, one step per axis). Legends
/// (`g.legend`) print names whole: the right margin grows with the longest name and the chart with the entry count.
enum SVG {
    static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]
    /// Tableau 20: one colour per asset of a stacked area of up to 20 assets.
    static let palette20 = [
        "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
        "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
    ]
    static let width = 960.0
    static let minHeight = 300.0
    /// Plot area margins but the right one, which holds the legend.
    static let margin = (left: 80.0, top: 28.0, bottom: 46.0)
    /// Legend rows and the width of one character of 11 px sans-serif, rounded up (to size the legend).
    static let legendRow = 15.0, charWidth = 7.0
    /// A line with at most this many points also gets a dot on each.
    static let dotsUpTo = 40

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

    /// How the x axis is ticked: dates (quarters or years), round numbers (whole ones for `integers`), or one label
    /// under each group of bars.
    enum XScale {
        case time
        case numbers(integers: Bool)
        case categories([String])
    }

    /// A line chart; `hLines` are dashed reference levels (e.g. 0 or 0.95), `legend` extra (name, colour) entries.
    static func lines(
        _ title: String, _ series: [Series], x xTitle: String, xScale: XScale = .time, y yTitle: String,
        yIntegers: Bool = false, bands: [Band] = [], markers: [Marker] = [], hLines: [Double] = [],
        legend: [(String, String)] = []
    ) -> String {
        let xs = series.flatMap(\.x), ys = series.flatMap(\.y).filter(\.isFinite) + hLines + markers.map(\.y)
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return empty(title) }
        let entries = series.map { ($0.name, $0.color) } + legend
        let frame = Frame(x: x0, x1, scale: xScale, y: y0, y1, yIntegers: yIntegers, legend: entries)
        var s = open(title, height: frame.height)
        for b in bands {
            let (l, r) = (frame.px(b.x0), frame.px(b.x1))
            s +=
                "<rect x=\"\(f(l))\" y=\"\(f(margin.top))\" width=\"\(f(max(r - l, 0.5)))\" "
                + "height=\"\(f(frame.plotHeight))\" fill=\"\(b.color)\" fill-opacity=\"0.18\"/>"
        }
        s += axes(frame, x: xTitle, y: yTitle) + referenceLines(hLines, frame)
        for line in series {
            let points = zip(line.x, line.y).filter { $0.1.isFinite }.map { (frame.px($0.0), frame.py($0.1)) }
            s +=
                "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"\(line.width)\""
                + (line.dashed ? " stroke-dasharray=\"5 3\"" : "")
                + " points=\"\(points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\"/>"
            if points.count <= dotsUpTo {
                for (x, y) in points {
                    s += "<circle class=\"dot\" cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"2.5\" fill=\"\(line.color)\"/>"
                }
            }
        }
        for m in markers {
            let (x, y) = (frame.px(m.x), frame.py(m.y)), d = m.up ? 5.0 : -5.0
            s +=
                "<path class=\"trade\" d=\"M\(f(x)),\(f(y + d)) l-4,\(f(d)) l8,0 z\" "
                + "fill=\"\(m.up ? "#2ca02c" : "#d62728")\"/>"
        }
        return s + legendBox(entries, frame) + "</svg>"
    }

    /// A grouped bar chart: one group per category, one bar per series; nil values are left out.
    static func bars(
        _ title: String, categories: [String], _ series: [(name: String, values: [Double?])],
        x xTitle: String, y yTitle: String, hLines: [Double] = []
    ) -> String {
        let values = series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite) + hLines + [0]
        guard !categories.isEmpty, let lo = values.min(), let hi = values.max() else { return empty(title) }
        let entries = series.enumerated().map { ($0.element.name, palette[$0.offset % palette.count]) }
        let frame = Frame(x: 0, Double(categories.count), scale: .categories(categories), y: lo, hi, legend: entries)
        var s = open(title, height: frame.height) + axes(frame, x: xTitle, y: yTitle)
        let groupWidth = frame.plotWidth / Double(categories.count)
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        for (c, name) in categories.enumerated() {
            let left = margin.left + Double(c) * groupWidth
            for (k, line) in series.enumerated() {
                guard c < line.values.count, let v = line.values[c], v.isFinite else { continue }
                let top = frame.py(max(v, 0)), bottom = frame.py(min(v, 0))
                s +=
                    "<rect x=\"\(f(left + groupWidth * 0.1 + Double(k) * barWidth))\" y=\"\(f(top))\" "
                    + "width=\"\(f(barWidth))\" height=\"\(f(max(bottom - top, 0.5)))\" fill=\"\(entries[k].1)\">"
                    + "<title>\(escape(line.name)) \(escape(name)): \(String(format: "%.4g", v))</title></rect>"
            }
        }
        return s + referenceLines(hLines, frame) + legendBox(entries, frame) + "</svg>"
    }

    /// A histogram of `values` in `bins` equal-width bins, one step outline per series (same bins for all); the count
    /// axis starts at 0.
    static func histogram(
        _ title: String, _ series: [(name: String, values: [Double])], x xTitle: String,
        y yTitle: String, bins: Int = 30
    ) -> String {
        let all = series.flatMap(\.values).filter(\.isFinite)
        guard let lo = all.min(), let hi = all.max() else { return empty(title) }
        let width = max(hi - lo, 1e-12) / Double(bins)
        let lines = series.enumerated().map { k, s in
            var counts = [Double](repeating: 0, count: bins)
            for v in s.values where v.isFinite { counts[min(Int((v - lo) / width), bins - 1)] += 1 }
            // left edge, a flat top over each bin, right edge
            var x: [Double] = [lo], y: [Double] = [0]
            for (b, n) in counts.enumerated() {
                x += [lo + Double(b) * width, lo + Double(b + 1) * width]; y += [n, n]
            }
            x.append(lo + Double(bins) * width); y.append(0)
            return Series(name: s.name, x: x, y: y, color: palette[k % palette.count])
        }
        return SVG.lines(title, lines, x: xTitle, xScale: .numbers(integers: false), y: yTitle, yIntegers: true)
    }

    /// Layers stacked over x (Shapes: each layer's values (T) for x (T)): positive values stack up from 0, negative
    /// ones down from 0, each layer a filled polygon between its lower and upper edge. The legend lists the layers top
    /// down, as they stack.
    static func stackedArea(
        _ title: String, x: [Double], _ layers: [(name: String, values: [Double])],
        x xTitle: String, y yTitle: String
    ) -> String {
        guard let x0 = x.first, let x1 = x.last else { return empty(title) }
        var up = [Double](repeating: 0, count: x.count), down = up
        let edges = layers.map { layer in
            let lower = x.indices.map { layer.values[$0] >= 0 ? up[$0] : down[$0] }
            for t in x.indices {
                if layer.values[t] >= 0 { up[t] += layer.values[t] } else { down[t] += layer.values[t] }
            }
            return (lower: lower, upper: x.indices.map { lower[$0] + layer.values[$0] })
        }
        let entries = layers.enumerated().map { ($0.element.name, palette20[$0.offset % palette20.count]) }
        let frame = Frame(x: x0, x1, scale: .time, y: down.min() ?? 0, max(up.max() ?? 0, 0), legend: entries)
        var s = open(title, height: frame.height) + axes(frame, x: xTitle, y: yTitle)
        for (k, e) in edges.enumerated() {
            let top = x.indices.map { "\(f(frame.px(x[$0]))),\(f(frame.py(e.upper[$0])))" }
            let bottom = x.indices.reversed().map { "\(f(frame.px(x[$0]))),\(f(frame.py(e.lower[$0])))" }
            s +=
                "<polygon class=\"area\" fill=\"\(entries[k].1)\" points=\"\((top + bottom).joined(separator: " "))\">"
                + "<title>\(escape(entries[k].0))</title></polygon>"
        }
        return s + legendBox(entries.reversed(), frame) + "</svg>"
    }

    /// A chart frame with no data.
    static func empty(_ title: String) -> String {
        open(title, height: minHeight) + "<text class=\"empty\" x=\"\(f(width / 2))\" y=\"\(f(minHeight / 2))\" "
            + "text-anchor=\"middle\" fill=\"#777\">no data</text></svg>"
    }

    // MARK: - Pieces

    /// Round ticks over lo…hi: the smallest step of 1, 2, 2.5 or 5 × 10ᵏ (whole numbers only when `integers`) that
    /// covers the range in at most `count` steps, from the last multiple of it at or below lo to the first at or above
    /// hi. The data may pass an end tick by `slack` of a step (e.g. weights summing to 1.003 end at 1, not 1.2). A
    /// range of zero width is widened by 10% of its value (or 1) on each side first.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5, integers: Bool = false, slack: Double = 0.02)
        -> (values: [Double], step: Double)
    {
        var (lo, hi) = (lo, hi)
        if !(hi > lo) {
            let pad = lo != 0 ? abs(lo) * 0.1 : 1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let raw = (hi - lo) / Double(count), power = pow(10, (log10(raw)).rounded(.down))
        let mantissas: [Double] = integers && power < 10 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]
        var step = mantissas.map { $0 * power }.first { $0 >= raw * (1 - slack) }!
        if integers { step = max(step, 1) }
        let first = Int((lo / step + slack).rounded(.down)), last = Int((hi / step - slack).rounded(.up))
        return ((first...max(last, first + 1)).map { Double($0) * step }, step)
    }

    /// A tick value with the decimals its step needs (2.5 × 10ᵏ one more than 10ᵏ).
    static func tickLabel(_ v: Double, step: Double) -> String {
        let k = Int((log10(step) + 1e-9).rounded(.down)), quarter = abs(step / pow(10, Double(k)) - 2.5) < 1e-9
        let decimals = max(0, -k + (quarter ? 1 : 0))
        return String(format: "%.\(decimals)f", abs(v) < step * 1e-6 ? 0 : v)
    }

    /// A chart's size and its data-to-pixel mapping; the axes run over whole round steps (see `ticks`).
    struct Frame {
        let scale: XScale
        let x: ClosedRange<Double>
        let xTicks: (values: [Double], step: Double)?
        let y: ClosedRange<Double>
        let yTicks: (values: [Double], step: Double)
        let right: Double
        let height: Double

        /// `legend`: the (name, colour) entries the right margin and the height must hold.
        init(
            x x0: Double, _ x1: Double, scale: XScale, y y0: Double, _ y1: Double, yIntegers: Bool = false,
            legend: [(String, String)]
        ) {
            self.scale = scale
            switch scale {
            case .numbers(let integers):
                let t = ticks(x0, x1, integers: integers)
                xTicks = t
                x = t.values.first!...t.values.last!
            case .time, .categories:
                xTicks = nil
                x = x0...(x1 > x0 ? x1 : x0 + 1)
            }
            yTicks = ticks(y0, y1, integers: yIntegers)
            y = yTicks.values.first!...yTicks.values.last!
            let longest = legend.map(\.0.count).max() ?? 0
            right = max(40, 10 + 16 + Double(longest) * charWidth + 10)
            height = max(minHeight, margin.top + 6 + Double(legend.count) * legendRow + margin.bottom)
        }

        var plotWidth: Double { width - margin.left - right }
        var plotHeight: Double { height - margin.top - margin.bottom }
        var bottom: Double { height - margin.bottom }
        func px(_ v: Double) -> Double { margin.left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * plotWidth }
        func py(_ v: Double) -> Double { margin.top + (y.upperBound - v) / (y.upperBound - y.lowerBound) * plotHeight }
    }

    static func open(_ title: String, height: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\" "
            + "role=\"img\">"
            + "<title>\(escape(title))</title><rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
            + "<text class=\"chart-title\" x=\"\(f(margin.left))\" y=\"16\" font-size=\"13\" font-weight=\"bold\">"
            + "\(escape(title))</text>"
    }

    /// The plot frame, grid lines, tick labels and axis titles: y at round steps; x as dates (a tick each quarter over
    /// up to three years, else each new year, at most about ten), round numbers, or one label per category.
    static func axes(_ frame: Frame, x xTitle: String, y yTitle: String) -> String {
        let (l, r, t, b) = (margin.left, width - frame.right, margin.top, frame.bottom)
        var s =
            "<rect x=\"\(f(l))\" y=\"\(f(t))\" width=\"\(f(r - l))\" height=\"\(f(b - t))\" fill=\"none\" "
            + "stroke=\"#999\"/>"
        s += "<g class=\"axis y\">"
        for v in frame.yTicks.values {
            let y = frame.py(v)
            s += "<line x1=\"\(f(l))\" x2=\"\(f(r))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#eee\"/>"
            s +=
                "<text class=\"tick\" x=\"\(f(l - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">"
                + "\(tickLabel(v, step: frame.yTicks.step))</text>"
        }
        s +=
            "<text class=\"axis-title\" transform=\"translate(14,\(f((t + b) / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">\(escape(yTitle))</text></g>"
        var ticks: [(x: Double, label: String, grid: Bool)] = []
        let kind: String
        switch frame.scale {
        case .time:
            kind = "time"
            let first = DateParser.year(Int64(frame.x.lowerBound)), last = DateParser.year(Int64(frame.x.upperBound))
            if last - first < 3 {
                for year in first...last {
                    for month in [1, 4, 7, 10] {
                        let label = month == 1 ? String(year) : "\(year)-\(month < 10 ? "0" : "")\(month)"
                        ticks.append((Double(monthStart(year, month)), label, true))
                    }
                }
            } else {
                for year in stride(from: first + 1, through: last, by: max(1, (last - first + 1) / 10)) {
                    ticks.append((Double(monthStart(year, 1)), String(year), true))
                }
            }
        case .numbers:
            kind = "number"
            let step = frame.xTicks!.step
            ticks = frame.xTicks!.values.map { ($0, tickLabel($0, step: step), true) }
        case .categories(let names):
            kind = "category"
            ticks = names.enumerated().map { (Double($0.offset) + 0.5, $0.element, false) }
        }
        s += "<g class=\"axis x \(kind)\">"
        for tick in ticks where frame.x.contains(tick.x) {
            let x = frame.px(tick.x)
            if tick.grid { s += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(t))\" y2=\"\(f(b))\" stroke=\"#eee\"/>" }
            s +=
                "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(b + 14))\" text-anchor=\"middle\">"
                + "\(escape(tick.label))</text>"
        }
        s +=
            "<text class=\"axis-title\" x=\"\(f((l + r) / 2))\" y=\"\(f(frame.height - 8))\" text-anchor=\"middle\">"
            + "\(escape(xTitle))</text></g>"
        return s
    }

    /// Dashed horizontal lines at the levels inside the frame.
    static func referenceLines(_ levels: [Double], _ frame: Frame) -> String {
        levels.filter { frame.y.contains($0) }.map { h in
            let y = f(frame.py(h))
            return "<line x1=\"\(f(margin.left))\" x2=\"\(f(width - frame.right))\" y1=\"\(y)\" y2=\"\(y)\" "
                + "stroke=\"#555\" stroke-dasharray=\"4 3\"/>"
        }.joined()
    }

    /// A colour swatch and the whole name per entry, top to bottom in the right margin.
    static func legendBox(_ entries: [(String, String)], _ frame: Frame) -> String {
        var s = "<g class=\"legend\">"
        for (k, (name, color)) in entries.enumerated() {
            let y = margin.top + 6 + Double(k) * legendRow, x = width - frame.right + 10
            s += "<rect x=\"\(f(x))\" y=\"\(f(y - 8))\" width=\"12\" height=\"8\" fill=\"\(color)\"/>"
            s += "<text x=\"\(f(x + 16))\" y=\"\(f(y))\">\(escape(name))</text>"
        }
        return s + "</g>"
    }

    /// Unix seconds of the first day of `month` in `year`, 00:00 UTC.
    static func monthStart(_ year: Int, _ month: Int) -> Int64 {
        var c = DateComponents()
        c.year = year
        c.month = month
        c.day = 1
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
