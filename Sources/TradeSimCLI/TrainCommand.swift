import ArgumentParser
import Experiments
import Foundation
import RunStore
import Sweeps

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Train an experiment (one run per seed), log it to the run store, and compare the greedy policy with the "
            + "baselines on the evaluated splits.",
        discussion: "Either an experiment file, or --env and --agent files.")

    @Argument(help: "experiments/NAME.yaml")
    var experiment: String?
    @Option(help: "Environment file (instead of an experiment file).")
    var env: String?
    @Option(help: "Agent file (instead of an experiment file).")
    var agent: String?
    @Option(parsing: .unconditional, help: "Train only this seed.")
    var seed: Int?
    @Option(parsing: .unconditional, help: "Environment steps per run (overrides the experiment).")
    var steps: Int?
    @Option(help: "The run store (overrides the experiment).")
    var store: String?
    @Option(help: "Checkpoint folder (overrides the experiment; default: checkpoints/ beside the store).")
    var checkpoints: String?
    @Option(help: "Write TensorBoard event files here, one subfolder per run (overrides the experiment).")
    var tensorboard: String?
    @Option(help: "Write a Markdown report of the evaluation here.")
    var report: String?
    @Option(help: "Continue this run (id or name prefix) from its latest checkpoint.")
    var resume: String?
    @Flag(help: "Train the experiment's seeds at once, one process each (then one summary of all their runs).")
    var parallel = false

    func validate() throws {
        if resume != nil {
            guard experiment == nil, env == nil, agent == nil, seed == nil, steps == nil, checkpoints == nil,
                tensorboard == nil
            else {
                throw ValidationError("--resume takes only --store and --report")
            }
            return
        }
        if experiment == nil && (env == nil || agent == nil) {
            throw ValidationError("give an experiment file, or both --env and --agent")
        }
        if experiment != nil && (env != nil || agent != nil) {
            throw ValidationError("give an experiment file or --env/--agent, not both")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be a positive number of steps, got \(steps)") }
        if let steps, steps > ExperimentSpec.maxSteps {
            throw ValidationError("--steps must be at most \(ExperimentSpec.maxSteps), got \(steps)")
        }
        if let checkpoints { try createFolder(checkpoints, label: "--checkpoints") }
        if let tensorboard { try createFolder(tensorboard, label: "--tensorboard") }
    }

    func run() throws {
        if let resume {
            let location = store ?? defaultStorePath
            let db = try existingStore(location)
            if let report {
                try checkOutput(
                    report, flag: "--report", store: location, evaluating: [try db.run(reference: resume)], in: db)
            }
            var bar = ProgressPrinter()
            let training = TrainingRun(store: location)
            let outcome = try resumeRun(resume, store: db) {
                training.update($0)
                bar.show($0)
            }
            training.end()
            bar.finish()
            print("\(outcome.run.name): \(outcome.run.status.rawValue)")
            try summarise(outcomes: [outcome], title: outcome.run.experiment, store: db)
            return
        }
        var loaded: Experiment
        if let experiment {
            loaded = try Experiment.load(experiment)
        } else {
            loaded = Experiment.adHoc(
                environment: env!, agent: agent!, steps: steps ?? 20_000, seed: seed ?? 1,
                store: store ?? defaultStorePath)
        }
        if let seed { loaded.spec.seeds = [seed] }
        if let steps { loaded.spec.steps = steps }
        if let checkpoints { loaded.spec.checkpoints = checkpoints }
        if let tensorboard { loaded.spec.tensorboard = tensorboard }
        if let report {
            try checkOutput(report, flag: "--report", store: store ?? loaded.spec.store, reads: loaded.files)
        }
        if parallel && loaded.spec.seeds.count > 1 {
            // Every seed's configuration checked here, so that a bad file is one error line, not one per child; the
            // store created (and migrated) once, before several processes open it at the same time.
            let plans = try loaded.spec.seeds.map { try RunPlan(loaded, seed: $0) }
            try checkBeforeTraining(
                loaded, plans: plans,
                setup: MarketSetup(path: loaded.environmentPath, overrides: loaded.environmentOverrides))
            let db = try RunStore(path: store ?? loaded.spec.store)
            try createRunFolders(loaded, store: store ?? loaded.spec.store)
            let runs = try trainInParallel(loaded.spec.seeds, store: db)
            try summarise(runs: runs, splits: loaded.spec.evaluateOn, title: loaded.name, store: db)
            return
        }
        var bar = ProgressPrinter()
        let training = TrainingRun(store: store ?? loaded.spec.store)
        let outcomes = try runExperiment(loaded, store: store) {
            training.update($0)
            bar.show($0)
        }
        training.end()
        bar.finish()
        try summarise(outcomes: outcomes, title: loaded.name, store: RunStore(path: store ?? loaded.spec.store))
    }

    /// Prints each evaluated split's comparison of the runs with the baselines and writes the `--report`.
    func summarise(outcomes: [RunOutcome], title: String, store: RunStore) throws {
        let splits = outcomes.first.map { $0.evaluations.map(\.split) } ?? []
        try summarise(runs: outcomes.map(\.run), splits: splits, title: title, store: store)
    }

    /// `summarise` of `runs` on `splits`.
    func summarise(runs: [RunRecord], splits: [Split], title: String, store: RunStore) throws {
        let summary = try RunSummary(runs: runs, splits: splits, store: store)
        print(summary.text)
        if let report {
            try write(try summary.markdown(title: title), to: report, flag: "--report")
            print("report: \(report)")
        }
    }
}

extension TrainCommand {
    /// Runs `tradesim train … --seed S` for every seed as child processes on `db` and waits for all of them; SQLite's
    /// WAL and busy timeout let them share one store. A password the store's URL gave goes in the children's
    /// environment, not on their command lines. Fails (after all have ended) if any child failed. SIGINT, SIGTERM and
    /// SIGHUP are passed on to the children, whose runs end interrupted, and then end this command (`Interrupted`).
    /// The children's own summaries are not printed: the command prints one of all their runs. Returns the runs, in
    /// the order of `seeds`.
    func trainInParallel(_ seeds: [Int], store db: RunStore) throws -> [RunRecord] {
        try ChildProcesses.shared.forwardingSignals { try trainChildren(seeds, store: db) }
    }

    /// `trainInParallel`'s children, started and waited for while signals are passed on to them.
    private func trainChildren(_ seeds: [Int], store db: RunStore) throws -> [RunRecord] {
        var base = experiment.map { [$0] } ?? ["--env", env!, "--agent", agent!]
        if let steps { base += ["--steps", "\(steps)"] }
        if store != nil { base += ["--store", db.path] }
        if let checkpoints { base += ["--checkpoints", checkpoints] }
        if let tensorboard { base += ["--tensorboard", tensorboard] }
        var children: [(seed: Int, process: Process)] = []
        for seed in seeds {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: currentExecutable())
            p.environment = db.childEnvironment
            p.arguments = ["train"] + base + ["--seed", "\(seed)"]
            p.standardOutput = FileHandle.nullDevice  // its summary: this command prints all the runs'
            guard try ChildProcesses.shared.start(p) else { break }
            children.append((seed, p))
        }
        var failed: [Int] = []
        for (seed, p) in children {
            p.waitUntilExit()
            if p.terminationStatus != 0 { failed.append(seed) }
        }
        // the children's runs are those they own
        let owners = Set(children.map { Int64($0.process.processIdentifier) })
        try ChildProcesses.shared.stopIfSignalled(waitingFor: []) { stopped in
            let runs = try db.runs(status: .interrupted).filter { $0.ownerPid.map(owners.contains) == true }
            return "stopped \(plural(stopped, "run"))"
                + (runs.isEmpty ? "" : " (" + runs.map(\.name).joined(separator: ", ") + ")")
                + "; continue each with tradesim train --resume RUN --store \(db.path)"
        }
        if !failed.isEmpty {
            throw CLIError(
                "\(experiment ?? agent!): seeds \(failed.map(String.init).joined(separator: ", ")) failed "
                    + "(see their messages above)"
            )
        }
        let runs = try db.runs().filter { $0.ownerPid.map(owners.contains) == true }
        return seeds.compactMap { seed in runs.last { $0.seed == seed } }
    }
}

/// The run a one-process `train` is training, for the line a signal prints before it ends the process: the run is
/// left interrupted, as a killed process leaves it, and `train --resume` continues it from its last checkpoint.
final class TrainingRun: @unchecked Sendable {
    private let lock = NSLock()
    private var name: String?

    init(store: String) {
        let shown = RunStore.shown(store)
        ChildProcesses.shared.endingWithNotice { [self] in
            lock.withLock { name }.map {
                "run \($0) stopped; continue it from its last checkpoint with tradesim train --resume \($0) "
                    + "--store \(shown)"
            }
        }
    }

    /// Notes the run a progress report is about.
    func update(_ progress: TrainingProgress) { lock.withLock { name = progress.run } }

    /// Training is over: a signal now ends the command without naming a run.
    func end() { lock.withLock { name = nil } }
}
