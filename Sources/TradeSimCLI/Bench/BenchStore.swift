import ArgumentParser
import Benchmarks
import Experiments
import Foundation
import RunStore
import Yams

struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Step rows inserted per second through the run store (one transaction per episode), and the overhead "
            + "of full per-step logging on a DQN training run.",
        discussion: """
            Each measurement writes a new store: a SQLite file in a temporary folder, or with --store postgresql://… a \
            new schema (bench_PID_NAME) in that database, dropped at the end.
            """)

    @Option(parsing: .unconditional, help: "Episodes to write.")
    var episodes: Int = 200
    @Option(parsing: .unconditional, help: "Step rows per episode.")
    var stepsPerEpisode: Int = 5_000
    @Option(
        parsing: .unconditional,
        help: "Steps of each DQN training run (logging every step, and episodes only; each twice); 0 skips them.")
    var trainingSteps: Int = 3_000
    @Option(help: "The environment file of the training runs.")
    var env: String = "environments/sp500-daily.yaml"
    @Option(help: "A PostgreSQL database to measure, postgresql://user@host:port/db (default: SQLite files).")
    var store: String?

    func validate() throws {
        guard episodes >= 1, stepsPerEpisode >= 1 else {
            throw ValidationError("--episodes and --steps-per-episode must be at least 1")
        }
        guard trainingSteps >= 0 else { throw ValidationError("--training-steps must be ≥ 0") }
        if let store, !RunStore.isURL(store) {
            throw ValidationError("--store must be a postgresql:// URL, got \(store)")
        }
    }

    /// Where the benchmark's store `name` goes: a file in `dir`, or a schema of its own in the --store database.
    func storePath(_ name: String, in dir: URL) -> String {
        guard let store else { return dir.appendingPathComponent(name + ".sqlite").path }
        let schema =
            "bench_\(ProcessInfo.processInfo.processIdentifier)_"
            + name.replacingOccurrences(of: "-", with: "_")
        return store + (store.contains("?") ? "&" : "?") + "schema=" + schema
    }

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tradesim-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var stores: [String] = []
        defer {
            try? FileManager.default.removeItem(at: dir)
            if self.store != nil { for path in stores { try? RunStore(path: path).dropSchema() } }
        }
        stores.append(storePath("bench", in: dir))
        let (rows, seconds) = try benchmarkStepInserts(
            path: stores[0], episodes: episodes,
            stepsPerEpisode: stepsPerEpisode)
        var overhead: Double?
        var timings: [Double] = []
        if trainingSteps > 0 {
            // The benchmark DQN (Double DQN, batch 64, update every 4 steps) as an agent file.
            let agentFile = dir.appendingPathComponent("dqn.yaml").path
            try YAMLEncoder().encode(benchmarkConfig(.dqn)).write(toFile: agentFile, atomically: true, encoding: .utf8)
            // Alternate the two variants and keep each one's best of two, so a passing load spike hits both alike.
            var best = [Double.infinity, Double.infinity]
            for (round, logEvery) in [1, 0, 1, 0].enumerated() {
                stores.append(storePath("log\(logEvery)-\(round)", in: dir))
                var e = Experiment.adHoc(
                    environment: env, agent: agentFile, steps: trainingSteps, seed: 1,
                    store: stores.last!)
                e.spec.logEvery = logEvery
                e.spec.evaluateOn = []
                e.spec.checkpoints = dir.appendingPathComponent("checkpoints").path
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try runExperiment(e, store: stores.last!)
                best[1 - logEvery] = min(best[1 - logEvery], Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            timings = best
            overhead = (timings[0] - timings[1]) / timings[1] * 100
        }
        struct Result: Encodable {
            var stepRows: Int; var seconds: Double; var stepRowsPerSecond: Double
            var trainingSteps: Int; var secondsWithStepLogging: Double?; var secondsWithoutStepLogging: Double?
            var loggingOverheadPercent: Double?
        }
        try printJSONLine(
            Result(
                stepRows: rows, seconds: seconds, stepRowsPerSecond: Double(rows) / seconds,
                trainingSteps: trainingSteps, secondsWithStepLogging: timings.first,
                secondsWithoutStepLogging: timings.last, loggingOverheadPercent: overhead))
    }
}
