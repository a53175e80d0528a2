import ArgumentParser
import Experiments
import Foundation
import Sweeps

/// `tradesim sweep status NAME`: done, running, interrupted, failed and pending trials with an ETA, and every trial;
/// for a Slurm sweep, each trial's array task as squeue shows it.
struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "A sweep's trials by status, with an estimate of the time left and, on Slurm, each task's state.")

    @Argument(help: "The sweep's name.")
    var sweep: String
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let status = try SweepStatus(sweep, store: storeToRead(store))
        let eta = status.secondsLeft.map { "ETA " + ProgressPrinter.duration($0) } ?? "ETA ? (no trial finished yet)"
        print(
            "sweep \(sweep): " + status.counts.map { "\($0.count) \($0.status)" }.joined(separator: ", ") + "; \(eta)")
        var tasks: [Int64: SlurmTask]?
        if status.sweep.launcher == Launcher.slurm.rawValue, let jobs = status.sweep.jobId {
            tasks = try Slurm.tasks(ofJobs: jobs.split(separator: ",").map(String.init))
            if let tasks {
                let states = Dictionary(grouping: tasks.values, by: \.state).map { "\($0.value.count) \($0.key)" }
                print(
                    "Slurm job \(jobs): "
                        + (states.isEmpty ? "no task in the queue" : states.sorted().joined(separator: ", ")))
            } else {
                print("Slurm job \(jobs): squeue is not installed here, so this is the store's view only")
            }
        } else {
            print("sweep \(sweep) runs on the \(status.sweep.launcher) launcher (no Slurm job): the store's view")
        }
        print(status.table(slurm: tasks).plain)
    }
}
