import ArgumentParser
import Experiments
import Foundation
import Sweeps

/// `tradesim sweep cancel NAME`: cancels a Slurm sweep's jobs with scancel.
struct SweepCancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a Slurm sweep's jobs (scancel); tradesim sweep NAME --resume --launcher slurm submits its "
            + "unfinished trials again.",
        discussion: """
            The command waits until no task of the sweep runs any more, then marks the runs those tasks trained as \
            interrupted, so that a resubmitted trial resumes at once instead of waiting out the run's lease on \
            another node.
            """)

    @Argument(help: "The sweep's name.")
    var sweep: String
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let db = try existingStore(store)
        let record = try db.sweep(named: sweep)
        guard record.launcher == Launcher.slurm.rawValue else {
            throw CLIError(
                "sweep \(sweep) has no Slurm job (its launcher is \(record.launcher)); stop a local sweep "
                    + "by stopping its tradesim sweep process")
        }
        guard let jobId = record.jobId else {
            throw CLIError(
                "sweep \(sweep) was never submitted to Slurm, so there is nothing to cancel (submit it with tradesim "
                    + "sweep \(sweep) --resume --launcher slurm --store \(db.path))")
        }
        let jobs = jobId.split(separator: ",").map(String.init)
        try Slurm.cancel(jobs: jobs)
        let stopped = try interruptRuns(of: record, cancelled: jobs, store: db)
        print(
            "cancelled Slurm job \(jobId) of sweep \(sweep)"
                + (stopped > 0 ? "; \(plural(stopped, "run")) interrupted" : ""))
    }
}
