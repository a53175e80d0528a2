import Foundation

/// Where a run stands. `running` rows whose process died are reported as `interrupted` by `tradesim runs`.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running, finished, failed, interrupted
}

/// Who trains a run, and whether that process is still there.
///
/// A run row stores its owner (pid, host name and, under Slurm, job) and a lease (`heartbeatAt`, renewed by every
/// episode and metric batch the owner writes). A `running` row is reported as `interrupted` when its owner is gone: on
/// this host, when no process has that pid; on another host, when the lease is older than `leaseSeconds`. Rows without
/// an owner (written by an older tradesim) keep their stored status.
public enum RunOwner {
    /// How long a run on another host may stay silent before it counts as interrupted.
    public static let leaseSeconds: TimeInterval = 3_600

    /// This machine's host name.
    public static let host: String = ProcessInfo.processInfo.hostName

    /// This process's Slurm job: `ARRAYJOB_TASK` in an array task (`12_3`, as squeue shows it), else `JOB`; nil
    /// outside Slurm. A requeued job keeps its id.
    public static let job: String? = slurmJob(ProcessInfo.processInfo.environment)

    /// The Slurm job named by `SLURM_ARRAY_JOB_ID` and `SLURM_ARRAY_TASK_ID`, or `SLURM_JOB_ID`.
    static func slurmJob(_ environment: [String: String]) -> String? {
        if let array = environment["SLURM_ARRAY_JOB_ID"], let task = environment["SLURM_ARRAY_TASK_ID"] {
            return array + "_" + task
        }
        return environment["SLURM_JOB_ID"]
    }

    /// Whether `run`'s owner was an earlier start of Slurm job `job` on another host (a requeue after a node failure
    /// or preemption). Slurm runs a job once at a time, so that owner is gone even while its lease lasts. On this host
    /// the owner's pid decides (`isAlive`).
    public static func isEarlierRun(of job: String?, _ run: RunRecord) -> Bool {
        job != nil && run.ownerJob == job && run.ownerHost != host
    }

    /// Whether the owner of a `running` run is still alive (true when unknown). On this host: a process with its pid
    /// exists and started before the run's last heartbeat (a process that started later has the pid of an owner gone
    /// before it, e.g. after a reboot).
    public static func isAlive(_ run: RunRecord, now: Date = Date()) -> Bool {
        guard let pid = run.ownerPid, let owner = run.ownerHost else { return true }
        if owner == host {
            let id = pid_t(truncatingIfNeeded: pid)
            guard kill(id, 0) == 0 || errno == EPERM else { return false }
            guard let heartbeat = run.heartbeatAt, let started = startTime(of: id) else { return true }
            return started < heartbeat.addingTimeInterval(startSlack)
        }
        guard let heartbeat = run.heartbeatAt else { return true }
        return now.timeIntervalSince(heartbeat) < leaseSeconds
    }

    /// How much later than a run's last heartbeat its owner may seem to have started: the boot time the start is
    /// counted from is in whole seconds, and the clock may have been set since.
    static let startSlack: TimeInterval = 60

    /// When process `pid` started (Linux: its start in clock ticks after boot, in `/proc/PID/stat`, and the boot time
    /// in `/proc/stat`), or nil where that cannot be read.
    static func startTime(of pid: pid_t) -> Date? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let name = stat.lastIndex(of: ")"),
            let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let boot = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })
                .flatMap({ Double($0.dropFirst(6)) })
        else { return nil }
        // the fields after the name start at the third (state); the start is the 22nd
        let fields = stat[stat.index(after: name)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        return Date(timeIntervalSince1970: boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// `run` as it stands: a `running` run whose owner is gone becomes `interrupted`, with a message saying why.
    public static func observed(_ run: RunRecord) -> RunRecord {
        guard run.status == .running, !isAlive(run) else { return run }
        var r = run
        r.status = .interrupted
        r.message = "its process \(run.ownerPid.map(String.init) ?? "?") on \(run.ownerHost ?? "?") is gone"
        return r
    }
}
