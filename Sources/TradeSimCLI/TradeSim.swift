import ArgumentParser
import Foundation
import NeuralCore
import RunStore
import Sweeps

@main
struct TradeSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tradesim",
        abstract: "Reinforcement-learning trading simulator: leak-free market replay, LSTM agents, runs in SQLite or "
            + "PostgreSQL.",
        version: "0.1.0",
        subcommands: [
            CheckEnv.self, AuditCommand.self, FeaturesCommand.self, TrainCommand.self, PretrainCommand.self,
            EvaluateCommand.self, RunsCommand.self, ExportCommand.self, ReplayCommand.self,
            MetricsCommand.self, CompareCommand.self, ReportCommand.self, SweepCommand.self, SweepsCommand.self,
            EnsembleCommand.self, StoreCommand.self, Bench.self,
        ])

    /// Every failure is one line on stderr and a non-zero exit; help and version print as usual.
    static func main() {
        if let missing = missingCPUFeatures() {
            FileHandle.standardError.write(
                Data(
                    ("error: this CPU lacks \(missing), which tradesim's numeric code is built for (x86-64-v3: "
                        + "Haswell, Zen or later)\n").utf8))
            Foundation.exit(1)
        }
        do {
            var command = try parseAsRoot()
            // One compute thread unless the user pins another count (a malformed one stops here).
            setBLASThreads(try pinnedThreadCount() ?? 1)
            try command.run()
            try Output.flushStandardOutput()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let text = RunStore.withoutPasswords(
                message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)")
            // On a terminal, over a progress line the failure left unfinished (`ProgressPrinter`), not after it.
            let clear = isatty(STDERR_FILENO) != 0 ? "\r\u{1B}[K" : ""
            if let stop = error as? Interrupted {
                FileHandle.standardError.write(Data("\(clear)\(stop)\n".utf8))
                Foundation.exit(stop.exitCode)
            }
            FileHandle.standardError.write(Data("\(clear)error: \(text)\n".utf8))
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// A failure with a message for the user (already naming the file, row or key).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Peak resident set size of this process so far, in bytes (Linux reports ru_maxrss in KiB).
func peakRSSBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

/// Prints a value as one JSON line (sorted keys), with extra keys added.
func printJSON(_ value: some Encodable, adding extra: [String: Any] = [:]) throws {
    let data = try JSONEncoder().encode(value)
    guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw CLIError("result is not a JSON object")
    }
    for (k, v) in extra { object[k] = v }
    let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: line, as: UTF8.self))
}

/// Prints a benchmark result as one JSON line with `peakRSSBytes` added.
func printJSONLine(_ value: some Encodable, adding extra: [String: Any] = [:]) throws {
    var extra = extra
    extra["peakRSSBytes"] = peakRSSBytes()
    try printJSON(value, adding: extra)
}

/// The AVX2 / FMA flags missing from /proc/cpuinfo on x86-64 Linux (nil when present, or elsewhere).
func missingCPUFeatures() -> String? {
    #if os(Linux) && arch(x86_64)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let present = Set(flags.split(separator: " ").map(String.init))
        let missing = ["avx2", "fma"].filter { !present.contains($0) }
        return missing.isEmpty ? nil : missing.joined(separator: " and ")
    #else
        return nil
    #endif
}
