import Experiments
import Foundation
import RunStore
import Sweeps

/// What `tradesim bench sweep` measures.
public struct SweepBenchmark: Encodable {
    /// `local` (a pool of processes) or `slurm` (a job array on the cluster `sbatch` submits to).
    public var launcher: String
    public var trials: Int
    /// Trials at once: processes of the local pool, or the array's `%K` throttle.
    public var jobs: Int
    public var stepsPerTrial: Int
    /// Wall seconds of the sweep with `jobs` trials at once, and of the same trials one after another: from the
    /// `tradesim sweep` command's start to the end of its last trial.
    public var wallSeconds: Double
    public var serialSeconds: Double
    /// serialSeconds / (jobs × wallSeconds): 1 when `jobs` trials at once take no longer than one.
    public var parallelEfficiency: Double
    /// The sweep machinery's share of the serial wall time: everything but the trials' training loops (process
    /// start, configuration checks, data loading, claims, the final checkpoint, store writes outside training and, on
    /// Slurm, submission and scheduling).
    public var overheadPercent: Double
    /// Mean seconds of a trial's training loop (`charts/trainingSeconds`).
    public var trialTrainingSeconds: Double
    /// Slurm: seconds the `tradesim sweep --launcher slurm` command took (planning, recording, `sbatch`).
    public var submitSeconds: Double?
}

/// Runs a sweep of `trials` seeds of a DQN on the S&P 500 environment (`environment`), `steps` steps each, no
/// evaluation and one checkpoint at the end, twice in new stores: `jobs` trials at once and one at a time, through
/// `executable sweep …` (the command users run). Locally the stores are in a temporary folder; on Slurm (`slurm`)
/// they are in `runs/` of the working directory, which the nodes must see, and the sweep ends when its last trial has.
public func benchmarkSweep(
    trials: Int, steps: Int, jobs: Int, environment: String, agent: String, executable: String,
    slurm: Bool = false
) throws -> SweepBenchmark {
    let parent = slurm ? URL(fileURLWithPath: "runs", isDirectory: true) : FileManager.default.temporaryDirectory
    let dir = parent.appendingPathComponent("tradesim-bench-sweep-\(getpid())").standardizedFileURL
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let experiment = dir.appendingPathComponent("bench.yaml").path
    let yaml = """
        environment: \(absolutePath(environment))
        agent: \(absolutePath(agent))
        seeds: [\((1...trials).map(String.init).joined(separator: ", "))]
        steps: \(steps)
        checkpointEvery: \(steps)
        evaluateOn: []
        """
    try yaml.write(toFile: experiment, atomically: true, encoding: .utf8)
    func sweep(jobs: Int) throws -> (wall: Double, training: Double, submit: Double) {
        let store = dir.appendingPathComponent("jobs\(jobs).sqlite").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments =
            ["sweep", experiment, "--store", store]
            + (slurm ? ["--launcher", "slurm", "--max-parallel", "\(jobs)"] : ["--jobs", "\(jobs)"])
        p.standardOutput = FileHandle.nullDevice
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        try p.run()
        p.waitUntilExit()
        let submit = seconds()
        guard p.terminationStatus == 0 else { throw ConfigError("bench sweep: the sweep with \(jobs) at once failed") }
        let db = try RunStore(path: store)
        if slurm {
            let ended = try waitForSlurmSweep("bench", store: db, timeout: 24 * 3_600)
            guard ended.allSatisfy({ $0.status == .finished }) else {
                throw ConfigError("bench sweep: the Slurm sweep's trials did not all finish (\(dir.path)/sweeps/bench)")
            }
        }
        let wall = seconds()
        let training = try db.lastMetric("charts/trainingSeconds", runIds: try db.runs().map { $0.id! }).values
        return (wall, training.reduce(0, +), submit)
    }
    let parallel = try sweep(jobs: jobs)
    let serial = try sweep(jobs: 1)
    return SweepBenchmark(
        launcher: slurm ? "slurm" : "local", trials: trials, jobs: jobs, stepsPerTrial: steps,
        wallSeconds: parallel.wall, serialSeconds: serial.wall,
        parallelEfficiency: serial.wall / (Double(jobs) * parallel.wall),
        overheadPercent: 100 * (serial.wall - serial.training) / serial.wall,
        trialTrainingSeconds: serial.training / Double(trials),
        submitSeconds: slurm ? parallel.submit : nil)
}
