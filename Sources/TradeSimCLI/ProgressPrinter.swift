import Experiments
import Foundation

/// Training progress on stderr (results go to stdout): on a terminal, one line redrawn in place that fits its width;
/// otherwise (a log file, a pipe) a line at the first report, at every tenth of the run, when an evaluation starts
/// and at least every 30 seconds, so a log read during a run is never empty.
struct ProgressPrinter {
    let terminal = isatty(STDERR_FILENO) != 0
    var lastDecile = -1
    var lastPhase = ""
    var lastLine = Date.distantPast
    var active = false

    mutating func show(_ p: TrainingProgress) {
        if let notice = p.notice { FileHandle.standardError.write(Data((notice + "\n").utf8)) }
        if terminal {
            FileHandle.standardError.write(Data(("\r" + Self.line(p, width: terminalWidth() - 1) + "\u{1B}[K").utf8))
            active = true
            return
        }
        let decile = Int(min(Double(p.step) / Double(max(p.total, 1)), 1) * 10)
        let newPhase = p.phase != lastPhase && p.phase.hasPrefix("evaluating")
        guard decile > lastDecile || newPhase || Date().timeIntervalSince(lastLine) >= 30 else { return }
        (lastDecile, lastPhase, lastLine) = (decile, p.phase, Date())
        FileHandle.standardError.write(Data((Self.line(p, width: .max) + "\n").utf8))
    }

    mutating func finish() {
        if active { FileHandle.standardError.write(Data("\n".utf8)) }
        active = false
        lastDecile = -1
        lastPhase = ""
    }

    /// The progress line cut to `width` columns: the phase, step count, rate and ETA come first; the bar, the last
    /// episode's return and loss and the run's name are dropped or shortened, in that order, when they do not fit.
    static func line(_ p: TrainingProgress, width: Int) -> String {
        let eta = p.secondsLeft.isFinite ? duration(p.secondsLeft) : "?"
        let core = "\(p.phase) \(p.step)/\(p.total) \(Int(p.stepsPerSecond.rounded())) steps/s ETA \(eta)"
        let extras =
            (p.lastEpisodeReturn.map { String(format: " return %.4f", $0) } ?? "")
            + (p.loss.map { String(format: " loss %.4g", $0) } ?? "")
        let fraction = min(Double(p.step) / Double(max(p.total, 1)), 1)
        func bar(_ n: Int) -> String {
            let filled = Int(fraction * Double(n))
            return " [" + String(repeating: "=", count: filled) + String(repeating: " ", count: n - filled) + "]"
        }
        for candidate in ["\(p.run)\(bar(20)) \(core)\(extras)", "\(p.run)\(bar(10)) \(core)", "\(p.run) \(core)"]
        where candidate.count <= width {
            return candidate
        }
        let room = width - core.count - 2
        guard room >= 4 else { return String(core.prefix(max(width, 0))) }
        return String(p.run.prefix(room - 1)) + "… " + core
    }

    /// `95s`, `12m05s`, `3h02m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, s / 60 % 60)
    }

    /// The terminal's columns (80 when unknown).
    func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }
}
