import Experiments
import Foundation
import RunStore

/// Where a sweep stands (`tradesim sweep status`, `tradesim sweeps`): its trials by status, each trial's run and
/// progress, and an estimate of the time left.
public struct SweepStatus {
    public let sweep: SweepRecord
    public let trials: [TrialRecord]
    /// Each trial's run (nil until claimed), as it stands (a run whose process is gone reads `interrupted`).
    public let runs: [RunRecord?]
    /// Each trial's training steps done so far (its run's last `charts/globalStep`) and budget.
    public let steps: [(done: Int, total: Int)]

    public init(_ name: String, store: RunStore) throws {
        sweep = try store.sweep(named: name)
        trials = try store.trials(sweepId: sweep.id!)
        let byId = Dictionary(uniqueKeysWithValues: try store.runs().map { ($0.id!, $0) })
        runs = trials.map { $0.runId.flatMap { byId[$0] } }
        let done = try store.lastMetric("charts/globalStep", runIds: runs.compactMap { $0?.id })
        steps = runs.map { run in
            let total = run.flatMap { try? JSONDecoder().decode(StepBudget.self, from: Data($0.configJSON.utf8)) }
            return (run.flatMap { done[$0.id!] }.map { Int($0) } ?? 0, total?.experiment.steps ?? 0)
        }
    }

    /// Trials by status: `pending`, `running` (a live process), `interrupted` (its process is gone: `--resume`
    /// continues it, or marks it finished when its run had finished), `finished`, `failed`.
    public var counts: [(status: String, count: Int)] {
        let states = trials.indices.map(state)
        return ["finished", "running", "interrupted", "failed", "pending"].map { s in
            (s, states.filter { $0 == s }.count)
        }
    }

    /// Seconds left: the mean duration of the finished trials times the work left (pending and interrupted trials, and
    /// the steps the running ones still have), divided by the trials running now (at least one). Nil before a trial
    /// has finished.
    public var secondsLeft: Double? {
        let durations = zip(trials, runs).compactMap { t, r -> Double? in
            guard t.status == .finished, let r, let end = r.endedAt else { return nil }
            return end.timeIntervalSince(r.startedAt)
        }
        guard !durations.isEmpty else { return nil }
        let mean = durations.reduce(0, +) / Double(durations.count)
        var left = 0.0, running = 0
        for (i, t) in trials.enumerated() {
            switch t.status {
            case .pending: left += 1
            case .running:
                if runs[i]?.status == .running { running += 1 }
                let (done, total) = steps[i]
                left += total > 0 ? 1 - min(Double(done) / Double(total), 1) : 1
            case .finished, .failed: break
            }
        }
        return mean * left / Double(max(running, 1))
    }

    /// One row per trial: index, configuration, window, seed, status, steps, run and error; with `slurm` (the
    /// sweep's array tasks by index, from squeue), each trial's task state after its status (`-`: not in the queue).
    public func table(slurm: [Int64: SlurmTask]? = nil) -> TextTable {
        var t = TextTable(
            header: ["trial", "config", "window", "seed", "status"] + (slurm == nil ? [] : ["slurm"])
                + ["steps", "run", "message"])
        for (i, trial) in trials.enumerated() {
            let task = slurm.map { tasks in [tasks[trial.index].map(Self.describe) ?? "-"] } ?? []
            t.append(
                [
                    "\(trial.index)", "\(trial.configuration)", trial.window.map(String.init) ?? "-", "\(trial.seed)",
                    state(i),
                ] + task
                    + [
                        steps[i].total > 0 ? "\(steps[i].done)/\(steps[i].total)" : "-", runs[i]?.name ?? "-",
                        trial.message.map { String($0.prefix(80)) } ?? "",
                    ])
        }
        return t
    }

    /// Trial `i`'s status as shown: `interrupted` for a running trial that no process runs (`needsProcess`), else its
    /// stored status.
    func state(_ i: Int) -> String {
        let t = trials[i]
        return t.status == .running && needsProcess(t, run: runs[i]) ? "interrupted" : t.status.rawValue
    }

    /// `12_3 RUNNING on node7`, `12_4 PENDING (JobArrayTaskLimit)`.
    static func describe(_ task: SlurmTask) -> String {
        let detail = !task.node.isEmpty ? " on \(task.node)" : task.reason == "None" ? "" : " (\(task.reason))"
        return "\(task.job) \(task.state)\(detail)"
    }
}

/// The part of a run's stored configuration that holds its step budget.
struct StepBudget: Decodable {
    struct Spec: Decodable { var steps: Int }
    var experiment: Spec
}
