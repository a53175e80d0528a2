import Experiments
import Foundation
import RunStore
import Sweeps

/// What `tradesim bench sweep` measures.
public struct SweepBenchmark: Encodable {
    public var trials: Int
    public var jobs: Int
    public var stepsPerTrial: Int
    /// Wall seconds of the sweep on `jobs` processes, and of the same trials one after another (`--jobs 1`).
    public var wallSeconds: Double
    public var serialSeconds: Double
    /// serialSeconds / (jobs × wallSeconds): 1 when `jobs` trials at once take no longer than one.
    public var parallelEfficiency: Double
    /// The sweep machinery's share of the serial wall time: everything but the trials' training loops (process
    /// start, configuration checks, data loading, claims, the final checkpoint, store writes outside training).
    public var overheadPercent: Double
    /// Mean seconds of a trial's training loop (`charts/trainingSeconds`).
    public var trialTrainingSeconds: Double
}

/// Runs a sweep of `trials` seeds of a DQN on the S&P 500 environment (`environment`), `steps` steps each, no
/// evaluation and one checkpoint at the end, twice in temporary stores: on `jobs` processes and on one, through
/// `executable sweep …` (the command users run).
public func benchmarkSweep(trials: Int, steps: Int, jobs: Int, environment: String, agent: String, executable: String)
    throws -> SweepBenchmark
{
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradesim-bench-sweep-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let experiment = dir.appendingPathComponent("bench.yaml").path
    let yaml = """
        environment: \(absolute(environment))
        agent: \(absolute(agent))
        seeds: [\((1...trials).map(String.init).joined(separator: ", "))]
        steps: \(steps)
        checkpointEvery: \(steps)
        evaluateOn: []
        """
    try yaml.write(toFile: experiment, atomically: true, encoding: .utf8)
    func sweep(jobs: Int) throws -> (wall: Double, training: Double) {
        let store = dir.appendingPathComponent("jobs\(jobs).sqlite").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["sweep", experiment, "--store", store, "--jobs", "\(jobs)"]
        p.standardOutput = FileHandle.nullDevice
        let start = DispatchTime.now().uptimeNanoseconds
        try p.run()
        p.waitUntilExit()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard p.terminationStatus == 0 else { throw ConfigError("bench sweep: the sweep with --jobs \(jobs) failed") }
        let db = try RunStore(path: store)
        let training = try db.lastMetric("charts/trainingSeconds", runIds: try db.runs().map { $0.id! }).values
        return (wall, training.reduce(0, +))
    }
    let parallel = try sweep(jobs: jobs)
    let serial = try sweep(jobs: 1)
    return SweepBenchmark(trials: trials, jobs: jobs, stepsPerTrial: steps, wallSeconds: parallel.wall,
                          serialSeconds: serial.wall, parallelEfficiency: serial.wall / (Double(jobs) * parallel.wall),
                          overheadPercent: 100 * (serial.wall - serial.training) / serial.wall,
                          trialTrainingSeconds: serial.training / Double(trials))
}

func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
