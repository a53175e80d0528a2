import Agents
import ArgumentParser
import Benchmarks
import Experiments
import Foundation
import RunStore
import Yams

struct BenchSoak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract:
            "A long DQN training run with every step logged to a run store: peak and current RSS at 10% and at 100% of "
            + "the run, and the growth between them (a leak shows as growth)."
    )

    @Option(parsing: .unconditional, help: "Environment steps of training.")
    var steps: Int = 1_000_000
    @Option(help: "The environment file.")
    var env: String = "environments/sp500-daily.yaml"
    @Option(parsing: .unconditional, help: "Encoder embedding and hidden size (E = H/2).")
    var hidden: Int = 32

    func validate() throws {
        guard steps >= 1_000 else { throw ValidationError("--steps must be at least 1000") }
        guard hidden >= 2 else { throw ValidationError("--hidden must be at least 2") }
    }

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tradesim-soak-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The benchmark DQN (Double DQN, batch 64, update every 4 steps, 100k replay) on a small encoder.
        let agentFile = dir.appendingPathComponent("dqn.yaml").path
        let agent = benchmarkConfig(.dqn, encoder: EncoderConfig(embedding: hidden / 2, hidden: hidden, layers: 1))
        try YAMLEncoder().encode(agent).write(toFile: agentFile, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("soak.sqlite").path
        var e = Experiment.adHoc(environment: env, agent: agentFile, steps: steps, seed: 1, store: store)
        e.spec.logEvery = 1
        e.spec.evaluateOn = []
        e.spec.checkpoints = dir.appendingPathComponent("checkpoints").path
        var atTenth: (peak: Int, current: Int)?
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try runExperiment(e, store: store) { p in
            if atTenth == nil && p.step >= steps / 10 { atTenth = (peakRSSBytes(), currentRSSBytes()) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let end = (peak: peakRSSBytes(), current: currentRSSBytes())
        let tenth = atTenth ?? end
        let rows = try RunStore(path: store).export(runId: 1, what: .steps, format: .csv, to: FileHandle.nullDevice)
        struct Result: Encodable {
            var steps: Int; var seconds: Double; var stepsPerSecond: Double; var stepRowsLogged: Int; var hidden: Int
            var peakRSSAt10PercentBytes: Int; var peakRSSAt100PercentBytes: Int; var peakRSSGrowthPercent: Double
            var currentRSSAt10PercentBytes: Int; var currentRSSAt100PercentBytes: Int
        }
        try printJSONLine(
            Result(
                steps: steps, seconds: seconds, stepsPerSecond: Double(steps) / seconds, stepRowsLogged: rows,
                hidden: hidden, peakRSSAt10PercentBytes: tenth.peak, peakRSSAt100PercentBytes: end.peak,
                peakRSSGrowthPercent: Double(end.peak - tenth.peak) / Double(tenth.peak) * 100,
                currentRSSAt10PercentBytes: tenth.current, currentRSSAt100PercentBytes: end.current))
    }
}

/// Resident set size of this process now, in bytes (Linux: /proc/self/statm; 0 elsewhere).
func currentRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}
