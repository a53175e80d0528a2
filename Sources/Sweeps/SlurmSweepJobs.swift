import Foundation
import RunStore

// What tradesim does with a Slurm sweep's jobs besides submitting them: wait for them, and clean up after a cancel.

/// After `scancel` of a sweep's `jobs`: waits until none of their tasks is active (at most `timeout`), then marks the
/// sweep's running runs that those tasks trained `interrupted`, so that a resubmitted trial takes its run over at once
/// instead of waiting out its lease. Returns how many runs it marked.
public func interruptRuns(of sweep: SweepRecord, cancelled jobs: [String], store: RunStore, timeout: TimeInterval = 120)
    throws -> Int
{
    let deadline = Date().addingTimeInterval(timeout)
    while let tasks = try Slurm.tasks(ofJobs: jobs), let active = tasks.values.first(where: \.isActive) {
        guard Date() < deadline else {
            throw SlurmError(
                "task \(active.job) is still \(active.state) \(Int(timeout)) s after scancel; its run is "
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

/// Waits until every trial of a Slurm sweep has finished or failed, or every task of its jobs has ended (a task may
/// have died without ending its trial), and returns the trials as they then stand; throws after `timeout` seconds.
public func waitForSlurmSweep(_ name: String, store: RunStore, timeout: TimeInterval) throws -> [TrialRecord] {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let sweep = try store.sweep(named: name)
        let trials = try store.trials(sweepId: sweep.id!)
        if trials.allSatisfy({ $0.status == .finished || $0.status == .failed }) { return trials }
        let jobs = sweep.jobId?.split(separator: ",").map(String.init) ?? []
        if let tasks = try Slurm.tasks(ofJobs: jobs), tasks.values.allSatisfy(\.hasEnded) {
            // Read again: a task may have ended its trial between the two reads.
            return try store.trials(sweepId: sweep.id!)
        }
        guard Date() < deadline else { throw SlurmError("sweep \(name): not done after \(Int(timeout)) s") }
        usleep(100_000)
    }
}
