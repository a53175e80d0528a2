import Experiments
import Foundation
import RunStore

/// Runs a sweep's trials on this machine, `jobs` at a time, each as its own process: `EXECUTABLE sweep run-trial NAME
/// --index I --store STORE` (the store's `path`; a password its URL gave goes in the child's `PGPASSWORD`), the same
/// unit a Slurm array task runs. A trial is started when it needs a process (`needsProcess`: pending, failed, or running
/// while no process runs its run) and the trial it starts from has finished, at most once by one pool; trials that
/// another live process runs are waited for; finished trials are left alone. Each child's output goes to
/// `logFolder/trial-I.log`. `report` gets one line per trial that ends. Returns when no trial can run any more.
public struct LocalPool {
    public let sweep: SweepRecord
    public let store: RunStore
    public let jobs: Int
    public let executable: String
    public let logFolder: String

    public init(sweep: SweepRecord, store: RunStore, jobs: Int, executable: String, logFolder: String) {
        self.sweep = sweep
        self.store = store
        self.jobs = max(jobs, 1)
        self.executable = executable
        self.logFolder = logFolder
    }

    /// The trials that can start now: those that need a process and whose predecessor has finished; `busy` are the
    /// trials this pool runs or ran already.
    static func startable(_ trials: [TrialRecord], runs: [Int64: RunRecord], busy: Set<Int64>) -> [TrialRecord] {
        trials.filter { t in
            guard !busy.contains(t.index) else { return false }
            if let after = t.after, trials[Int(after)].status != .finished { return false }
            return needsProcess(t, run: t.runId.flatMap { runs[$0] })
        }
    }

    /// Runs until every trial has finished or failed, or can no longer start (its predecessor failed). On SIGINT,
    /// SIGTERM or SIGHUP it passes the signal on to the trials' processes, waits for them and throws `Interrupted`.
    public func run(report: (String) -> Void) throws {
        try FileManager.default.createDirectory(atPath: logFolder, withIntermediateDirectories: true)
        try ChildProcesses.shared.forwardingSignals { try runTrials(report: report) }
    }

    /// `run`'s loop, with signals passed on to the processes it starts.
    func runTrials(report: (String) -> Void) throws {
        var children: [Int64: (process: Process, started: Date)] = [:]
        // Trials whose process ended here: not started again by this pool (a failure or a crash would repeat).
        var ended = Set<Int64>()
        while true {
            let trials = try store.trials(sweepId: sweep.id!)
            let runs = Dictionary(uniqueKeysWithValues: try store.runs().map { ($0.id!, $0) })
            try ChildProcesses.shared.stopIfSignalled(waitingFor: children.values.map(\.process)) {
                "stopped \($0) trial\($0 == 1 ? "" : "s"); continue with tradesim sweep \(sweep.name) --resume --store "
                    + store.path
            }
            for (index, child) in children where !child.process.isRunning {
                children[index] = nil
                ended.insert(index)
                let t = trials[Int(index)]
                let seconds = String(format: "%.0f s", Date().timeIntervalSince(child.started))
                switch t.status {
                case .finished:
                    report("trial \(index) finished in \(seconds) (\(t.runId.flatMap { runs[$0]?.name } ?? "?"))")
                case .failed: report("trial \(index) failed after \(seconds): \(t.message ?? "?")")
                default:
                    report(
                        "trial \(index) stopped after \(seconds) (exit \(child.process.terminationStatus)); "
                            + "see \(logFile(index))")
                }
            }
            let startable = Self.startable(trials, runs: runs, busy: Set(children.keys).union(ended))
            for t in startable.prefix(jobs - children.count) {
                if let process = try start(t.index) { children[t.index] = (process, Date()) }
            }
            let othersRunning = trials.contains { t in
                t.status != .finished && children[t.index] == nil
                    && t.runId.flatMap { runs[$0] }.map { $0.status == .running } ?? false
            }
            if children.isEmpty && startable.isEmpty && !othersRunning { return }
            usleep(100_000)
        }
    }

    func logFile(_ index: Int64) -> String { logFolder + "/trial-\(index).log" }

    /// Starts one trial's process with its output appended to its log file; nil once a signal has stopped the pool.
    func start(_ index: Int64) throws -> Process? {
        let path = logFile(index)
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: path) else { throw ConfigError("\(path): cannot write the log") }
        log.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["sweep", "run-trial", sweep.name, "--index", "\(index)", "--store", store.path]
        p.environment = store.childEnvironment
        p.standardOutput = log
        p.standardError = log
        let started = try ChildProcesses.shared.start(p)
        try log.close()
        return started ? p : nil
    }
}

/// Whether a trial needs a process to claim it (`run` is its run as it stands): it is pending; or failed (a retry);
/// or running while no process runs its run (its process is gone, or ended without marking the trial: the claim
/// marks it finished if its run finished).
func needsProcess(_ t: TrialRecord, run: RunRecord?) -> Bool {
    switch t.status {
    case .pending: return true
    case .finished: return false
    case .running, .failed: return run.map { $0.status != .running } ?? (t.status == .failed)
    }
}

/// Trials to run at once on this machine by default: the cores divided by the threads each trial computes with.
public func defaultJobs(threadsPerTrial threads: Int) -> Int {
    max(1, ProcessInfo.processInfo.activeProcessorCount / max(threads, 1))
}
