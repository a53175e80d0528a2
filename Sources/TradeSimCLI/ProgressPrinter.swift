import Experiments
import Foundation

/// A progress bar on a terminal, a plain line every 10% otherwise.
struct ProgressPrinter {
    let terminal = isatty(STDOUT_FILENO) != 0
    var lastDecile = -1
    var active = false

    mutating func show(_ p: TrainingProgress) {
        let fraction = min(Double(p.step) / Double(max(p.total, 1)), 1)
        let extras = (p.lastEpisodeReturn.map { String(format: " return %.4f", $0) } ?? "") + (p.loss.map { String(format: " loss %.4g", $0) } ?? "")
        let eta = p.secondsLeft.isFinite ? String(format: "%.0fs", p.secondsLeft) : "?"
        if terminal {
            let width = 30, filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            FileHandle.standardOutput.write(Data("\r\(p.run) [\(bar)] \(p.step)/\(p.total) \(Int(p.stepsPerSecond)) steps/s ETA \(eta)\(extras)".utf8))
            active = true
        } else {
            let decile = Int(fraction * 10)
            guard decile > lastDecile else { return }
            lastDecile = decile
            print("\(p.run): \(p.step)/\(p.total) steps, \(Int(p.stepsPerSecond)) steps/s, ETA \(eta)\(extras)")
        }
    }

    mutating func finish() {
        if active { print("") }
        active = false
        lastDecile = -1
    }
}
