import Foundation
import RunStore

/// A Slurm command that is missing or failed, in one line with what it said.
public struct SlurmError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// An array task as `squeue` shows it.
public struct SlurmTask: Equatable, Sendable {
    /// `ARRAYJOB_INDEX`, e.g. `12_3`.
    public var job: String
    /// `PENDING`, `RUNNING`, `COMPLETING`, `COMPLETED`, `FAILED`, `CANCELLED`, … (ended tasks stay listed for a few
    /// minutes, Slurm's `MinJobAge`).
    public var state: String
    /// The node it runs on (empty while pending) and, while pending, why (`Priority`, `JobArrayTaskLimit`, …).
    public var node: String
    public var reason: String
}

/// The Slurm commands tradesim runs — `sbatch`, `squeue`, `scancel` — found on `PATH`.
public enum Slurm {
    /// The command's path on `PATH`, nil when it is not installed.
    public static func path(of command: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `command arguments…` to its end; a non-zero exit is a `SlurmError` with its first line of stderr.
    static func run(_ command: String, _ arguments: [String]) throws -> String {
        guard let path = path(of: command) else { throw SlurmError("\(command) is not installed (not on PATH)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Slurm's commands print a line or two to stderr, so it cannot fill its pipe while stdout is read.
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errorData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let said = String(decoding: errorData.isEmpty ? output : errorData, as: UTF8.self)
                .split(separator: "\n").first.map(String.init) ?? "exit \(p.terminationStatus)"
            throw SlurmError("\(command) \(arguments.joined(separator: " ")): \(said)")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Submits a batch script (`sbatch --parsable ARGUMENTS… SCRIPT`, where arguments override the script's
    /// `#SBATCH` lines) and returns the job id.
    public static func submit(_ script: String, arguments: [String] = []) throws -> String {
        let output = try run("sbatch", ["--parsable"] + arguments + [script])
        // `--parsable` prints `ID` or `ID;CLUSTER`.
        let id = output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError("sbatch \(script): no job id in its output '\(output)'")
        }
        return id
    }

    /// The array tasks of `jobs` that Slurm still knows, by array index; an index in several jobs gets the task of the
    /// last of them. Nil when `squeue` is not installed. Jobs Slurm has forgotten give no tasks.
    public static func tasks(ofJobs jobs: [String]) throws -> [Int64: SlurmTask]? {
        guard path(of: "squeue") != nil else { return nil }
        guard !jobs.isEmpty else { return [:] }
        let output: String
        do {
            output = try run("squeue", ["--noheader", "--array", "--states=all", "--jobs", jobs.joined(separator: ","),
                                        "--format", "%F|%K|%T|%N|%r"])
        } catch let error as SlurmError where error.description.contains("Invalid job id") {
            return [:]
        }
        var tasks: [Int64: (order: Int, task: SlurmTask)] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5, let index = Int64(f[1]), let order = jobs.firstIndex(of: f[0]) else { continue }
            if let known = tasks[index], known.order > order { continue }
            tasks[index] = (order, SlurmTask(job: "\(f[0])_\(index)", state: f[2], node: f[3], reason: f[4]))
        }
        return tasks.mapValues(\.task)
    }

    /// Cancels jobs (every task of each array) with `scancel`.
    public static func cancel(jobs: [String]) throws {
        _ = try run("scancel", jobs)
    }
}

extension SlurmTask {
    /// Whether its processes may still be alive (a task leaves these states once they have all exited).
    public var isActive: Bool {
        ["CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT"].contains(state)
    }
}

/// After `scancel` of a sweep's `jobs`: waits until none of their tasks is active (at most `timeout`), then marks the
/// sweep's running runs that those tasks trained `interrupted`, so that a resubmitted trial takes its run over at once
/// instead of waiting out its lease. Returns how many runs it marked.
public func interruptRuns(of sweep: SweepRecord, cancelled jobs: [String], store: RunStore, timeout: TimeInterval = 120)
    throws -> Int
{
    let deadline = Date().addingTimeInterval(timeout)
    while let tasks = try Slurm.tasks(ofJobs: jobs), let active = tasks.values.first(where: \.isActive) {
        guard Date() < deadline else {
            throw SlurmError("task \(active.job) is still \(active.state) \(Int(timeout)) s after scancel; its run is "
                + "left as it is")
        }
        usleep(200_000)
    }
    var marked = 0
    for trial in try store.trials(sweepId: sweep.id!) where trial.status == .running {
        guard let runId = trial.runId else { continue }
        // Stored as running (read here as interrupted when its process on this host is gone).
        let run = try store.run(id: runId)
        guard run.status == .running || run.status == .interrupted, let job = run.ownerJob,
            let arrayJob = job.split(separator: "_").first, jobs.contains(String(arrayJob))
        else { continue }
        try store.setStatus(ofRun: runId, to: .interrupted, message: "its Slurm job \(job) was cancelled")
        marked += 1
    }
    return marked
}

/// Waits until every trial of a Slurm sweep has finished or failed, or no task of its jobs is pending or active any
/// more (a task that died without ending its trial), and returns the trials as they then stand; throws after `timeout`
/// seconds.
public func waitForSlurmSweep(_ name: String, store: RunStore, timeout: TimeInterval) throws -> [TrialRecord] {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let sweep = try store.sweep(named: name)
        let trials = try store.trials(sweepId: sweep.id!)
        if trials.allSatisfy({ $0.status == .finished || $0.status == .failed }) { return trials }
        let jobs = sweep.jobId?.split(separator: ",").map(String.init) ?? []
        if let tasks = try Slurm.tasks(ofJobs: jobs), !tasks.values.contains(where: { $0.isActive || $0.state == "PENDING" })
        {
            // Read again: a task may have ended its trial between the two reads.
            return try store.trials(sweepId: sweep.id!)
        }
        guard Date() < deadline else { throw SlurmError("sweep \(name): not done after \(Int(timeout)) s") }
        usleep(100_000)
    }
}
