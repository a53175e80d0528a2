import ArgumentParser
import Foundation
import Yams
import Agents
import Experiments
import MarketData
import NeuralCore
import RunStore
import TradingEnv

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print one JSON line (build with -c release; pin OPENBLAS_NUM_THREADS).",
        subcommands: [BenchEnv.self, BenchLoad.self, BenchNN.self, BenchAgent.self, BenchStore.self, BenchSoak.self])
}

struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Environment steps per second with random discrete actions (gym-anytrading stocks-v0 workload).")

    @Option(help: "Assets; more than the data file has are made synthetic (seeded random walks).")
    var assets: Int = 1
    @Option(help: "Observation window T.")
    var window: Int = 10
    @Option(help: "Steps to time.")
    var steps: Int = 20_000_000
    @Option(help: "Environment file whose bars to replay when --assets is 1, or 'synthetic'.")
    var env: String = "environments/sp500-daily.yaml"
    @Option(help: "Bars per asset of a synthetic panel.")
    var bars: Int = 5_000

    func validate() throws {
        guard assets >= 1 else { throw ValidationError("--assets must be at least 1") }
        guard window >= 1, window < bars - 1 else { throw ValidationError("--window must be between 1 and --bars − 2") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        let panel: Panel
        if assets == 1 && env != "synthetic" {
            panel = try MarketSetup(path: env).dataset.panel
        } else {
            panel = syntheticPanel(assets: assets, bars: bars)
        }
        let result = try benchmarkEnv(panel: panel, window: window, steps: steps)
        try printJSONLine(result, adding: ["data": panel.source, "bars": panel.barCount])
    }
}

struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Step rows inserted per second through the run store (one transaction per episode, WAL), and the overhead of full per-step logging on a DQN training run.")

    @Option(help: "Episodes to write.")
    var episodes: Int = 200
    @Option(help: "Step rows per episode.")
    var stepsPerEpisode: Int = 5_000
    @Option(help: "Steps of each DQN training run (logging every step, and episodes only; each twice); 0 skips them.")
    var trainingSteps: Int = 3_000
    @Option(help: "The environment file of the training runs.")
    var env: String = "environments/sp500-daily.yaml"

    func validate() throws {
        guard episodes >= 1, stepsPerEpisode >= 1 else { throw ValidationError("--episodes and --steps-per-episode must be at least 1") }
        guard trainingSteps >= 0 else { throw ValidationError("--training-steps must be ≥ 0") }
    }

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradesim-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (rows, seconds) = try benchmarkStepInserts(path: dir.appendingPathComponent("bench.sqlite").path,
                                                       episodes: episodes, stepsPerEpisode: stepsPerEpisode)
        var overhead: Double?
        var timings: [Double] = []
        if trainingSteps > 0 {
            // The benchmark DQN (Double DQN, batch 64, update every 4 steps) as an agent file.
            let agentFile = dir.appendingPathComponent("dqn.yaml").path
            try YAMLEncoder().encode(benchmarkConfig(.dqn)).write(toFile: agentFile, atomically: true, encoding: .utf8)
            // Alternate the two variants and keep each one's best of two, so a passing load spike hits both alike.
            var best = [Double.infinity, Double.infinity]
            for (round, logEvery) in [1, 0, 1, 0].enumerated() {
                var e = Experiment.adHoc(environment: env, agent: agentFile, steps: trainingSteps, seed: 1,
                                         store: dir.appendingPathComponent("log\(logEvery)-\(round).sqlite").path)
                e.spec.logEvery = logEvery
                e.spec.evaluateOn = []
                e.spec.checkpoints = dir.appendingPathComponent("checkpoints").path
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try runExperiment(e)
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
        try printJSONLine(Result(stepRows: rows, seconds: seconds, stepRowsPerSecond: Double(rows) / seconds,
                                 trainingSteps: trainingSteps, secondsWithStepLogging: timings.first,
                                 secondsWithoutStepLogging: timings.last, loggingOverheadPercent: overhead))
    }
}

struct BenchSoak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "A long DQN training run with every step logged to a run store: peak and current RSS at 10% and at 100% of the run, and the growth between them (a leak shows as growth).")

    @Option(help: "Environment steps of training.")
    var steps: Int = 1_000_000
    @Option(help: "The environment file.")
    var env: String = "environments/sp500-daily.yaml"
    @Option(help: "Encoder embedding and hidden size (E = H/2).")
    var hidden: Int = 32

    func validate() throws {
        guard steps >= 1_000 else { throw ValidationError("--steps must be at least 1000") }
        guard hidden >= 2 else { throw ValidationError("--hidden must be at least 2") }
    }

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradesim-soak-\(ProcessInfo.processInfo.processIdentifier)")
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
        _ = try runExperiment(e) { p in
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
        try printJSONLine(Result(steps: steps, seconds: seconds, stepsPerSecond: Double(steps) / seconds, stepRowsLogged: rows,
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

extension Algorithm: ExpressibleByArgument {}
extension EncoderKind: ExpressibleByArgument {}

struct BenchAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Training throughput (acting, env steps and updates) of one agent, window 32, encoder E32 H64 L1 by default: on the S&P 500 environment (3 actions) or a synthetic panel (--env synthetic --assets N --features K: continuous weights over N assets).")

    @Option(help: "dqn, reinforce, a2c or ppo.")
    var algo: Algorithm = .dqn
    @Option(help: "Environment steps to train (all timed).")
    var steps: Int = 20_000
    @Option(help: "The environment file, or 'synthetic': a panel of --assets random walks, --features per asset, long-only weights.")
    var env: String = "environments/sp500-daily.yaml"
    @Option(help: "Assets of the synthetic panel (F = assets × features).")
    var assets: Int = 100
    @Option(help: "Features per asset of the synthetic panel (1…5).")
    var features: Int = 4
    @Option(help: "Encoder body: lstm, cnn or mlp.")
    var encoder: EncoderKind = .lstm
    @Option(help: "Market2Vec width E.")
    var embedding: Int = 32
    @Option(help: "Hidden units H.")
    var hidden: Int = 64

    func validate() throws {
        guard steps >= 100 else { throw ValidationError("--steps must be at least 100") }
        guard assets >= 2 else { throw ValidationError("--assets must be at least 2") }
        guard (1...5).contains(features) else { throw ValidationError("--features must be 1…5") }
        guard embedding >= 1, hidden >= 1 else { throw ValidationError("--embedding and --hidden must be positive") }
    }

    func run() throws {
        let market = env == "synthetic"
            ? try syntheticMarketEnv(assets: assets, features: features, window: 32)
            : try MarketSetup(path: env).environment(.train) { $0.window = 32 }
        let body = EncoderConfig(embedding: embedding, hidden: hidden, layers: 1, kind: encoder)
        let result = benchmarkAgent(algo: algo, env: market, steps: steps, config: benchmarkConfig(algo, encoder: body))
        try printJSONLine(result, adding: ["blasThreads": blasThreads(), "window": 32, "inputWidth": AgentSpec(of: market).inputWidth,
                                           "encoder": encoder.rawValue, "embedding": embedding, "hidden": hidden])
    }
}

struct BenchNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Market2Vec + LSTM training and batch-1 inference speed: x (B,T,F) → Linear(F→E)+ReLU → LSTM(E→H, L) → Linear(H→3), MSE, Adam.")

    @Option(help: "small (20,32,64,1,32,64), medium (400,128,128,2,64,64) or paper (4000,300,300,2,64,32) as (F,E,H,L,T,B).")
    var shape: String = "small"
    @Option(help: "Seconds of timed training, in 5 repeats; the figures are the medians of the repeats, as the PyTorch peer reports them.")
    var seconds: Double = 5
    @Option(help: "BLAS threads (default: OPENBLAS_NUM_THREADS, else 2).")
    var threads: Int?

    func validate() throws {
        guard NNBenchShape.named(shape) != nil else { throw ValidationError("--shape must be small, medium or paper, not '\(shape)'") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"].flatMap(Int.init)
        setBLASThreads(threads ?? env ?? 2)
        let result = benchmarkTraining(shape: NNBenchShape.named(shape)!, seconds: seconds)
        try printJSONLine(result, adding: ["shape": shape, "peakGflopsTwoCores": 205])
    }
}
