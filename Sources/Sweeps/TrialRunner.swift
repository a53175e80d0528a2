import Experiments
import Foundation
import RunStore

/// A trial that this process did not run, in one line: taken by a live process, or waiting for the trial it starts
/// from.
public struct TrialNotRunError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// What `runTrial` did.
public enum TrialResult: Equatable {
    /// Trained (or resumed) to the end: the run's name.
    case trained(String)
    /// Nothing to train: the trial's run had finished before (the trial is marked finished if it was not).
    case alreadyFinished
}

/// Runs trial `index` of sweep `name` in this process (`tradesim sweep run-trial`): rebuilds the trial's
/// configuration from the stored experiment text and assignments (its hash must equal the one recorded when the sweep
/// was made), claims the trial in the store at most once, and trains its run — from the start, from its last
/// checkpoint when the process that ran it is gone or it failed (a retry), or from the start again when it had no
/// checkpoint. A walk-forward window with `warmStart` starts from its predecessor's final weights. The trial ends
/// `finished`, or `failed` with its error line (which is rethrown).
public func runTrial(_ name: String, index: Int, store: RunStore, progress: (TrainingProgress) -> Void = { _ in })
    throws -> TrialResult
{
    let sweep = try store.sweep(named: name)
    let trials = try store.trials(sweepId: sweep.id!)
    guard trials.indices.contains(index) else {
        throw ConfigError("sweep \(name) has no trial \(index) (trials 0…\(trials.count - 1))")
    }
    let trial = trials[index]
    let label = "trial \(index) of sweep \(name)"
    let plan: RunPlan
    do {
        let experiment = try Experiment.load(
            sweep.experimentPath, text: sweep.experimentYAML,
            assignments: try assignments(fromJSON: trial.assignmentsJSON))
        plan = try RunPlan(experiment, seed: Int(trial.seed))
        guard plan.configHash == trial.configHash else {
            throw ConfigError(
                "\(label): its configuration resolves to \(plan.configHash), not \(trial.configHash) as when the sweep "
                    + "was made (an agent, environment or data file changed)")
        }
    } catch {
        try? store.endTrial(sweepId: sweep.id!, index: Int64(index), failure: "\(error)")
        throw error
    }
    var warmStart: String?
    if let after = trial.after, let runId = trials[Int(after)].runId,
        let last = try store.latestCheckpoint(runId: runId)
    {
        warmStart = (last.file as NSString).deletingLastPathComponent
    }
    for _ in 0..<2 {
        switch try store.claimTrial(sweepId: sweep.id!, index: Int64(index), makeRun: { _ in plan.runRecord() }) {
        case .started(let run):
            return try finish(trial: index, of: sweep, store: store) {
                try train(plan, run: run, warmStart: warmStart, store: store, progress: progress)
            }
        case .resumed(let run):
            guard try store.latestCheckpoint(runId: run.id!) != nil else {
                // Killed (or failed) before its first checkpoint: nothing to resume from, so the trial starts again.
                try store.restartTrial(sweepId: sweep.id!, index: Int64(index))
                continue
            }
            return try finish(trial: index, of: sweep, store: store) {
                try continueRun(run, store: store, progress: progress)
            }
        case .taken(let run):
            let owner =
                "process \(run.ownerPid.map(String.init) ?? "?") on \(run.ownerHost ?? "?")"
                + (run.ownerJob.map { " (Slurm job \($0))" } ?? "")
            throw TrialNotRunError(description: "\(label) is taken: run \(run.name) is running in \(owner)")
        case .finished:
            return .alreadyFinished
        case .waiting(let after):
            throw TrialNotRunError(description: "\(label) starts from trial \(after), which has not finished")
        }
    }
    throw TrialNotRunError(description: "\(label) could not be claimed")
}

/// Runs `body` (the trial's training) and records how the trial ended.
func finish(trial index: Int, of sweep: SweepRecord, store: RunStore, _ body: () throws -> RunOutcome) throws
    -> TrialResult
{
    do {
        let outcome = try body()
        try store.endTrial(sweepId: sweep.id!, index: Int64(index))
        return .trained(outcome.run.name)
    } catch {
        try? store.endTrial(sweepId: sweep.id!, index: Int64(index), failure: "\(error)")
        throw error
    }
}
