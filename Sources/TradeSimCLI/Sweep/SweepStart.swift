import ArgumentParser
import Experiments
import Foundation
import RunStore
import Sweeps

/// `tradesim sweep experiments/X.yaml …` records a sweep and runs its trials; `tradesim sweep NAME --resume` continues
/// one.
struct SweepStart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Record a sweep of an experiment (its sweep: block, --set keys, seeds, walkForward windows) and run "
            + "its trials, --jobs at a time; or continue a sweep with --resume.",
        discussion: """
            Every trial is a normal run linked to its sweep. Keys are dotted paths: agent.X and environment.X lay over \
            the agent and environment files, other keys are the experiment's. A failed trial does not stop the \
            others. A killed sweep continues with `tradesim sweep NAME --resume`: unfinished trials resume from their \
            checkpoints, pending ones start, finished ones are left alone.
            """)

    @Argument(help: "experiments/NAME.yaml (a new sweep), or a sweep's name with --resume.")
    var target: String
    @Option(name: .customLong("set"), help: "A grid key and its values, e.g. --set agent.learningRate=1e-4,3e-4 (repeatable).")
    var sets: [String] = []
    @Option(help: "Seeds crossing every configuration, e.g. 1,2,3 (default: the experiment's seeds).")
    var seeds: String?
    @Option(help: "The sweep's name (default: the experiment file's base name).")
    var name: String?
    @Option(help: "The run store (default: the experiment's store key).")
    var store: String?
    @Option(help: "Trials at once (default: the cores divided by the threads per trial).")
    var jobs: Int?
    @Flag(help: "Continue the sweep named by the argument.")
    var resume = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if resume && (!sets.isEmpty || seeds != nil || name != nil) {
            throw ValidationError("--resume takes only --store and --jobs")
        }
    }

    func run() throws {
        let db: RunStore
        let sweep: SweepRecord
        if resume {
            db = try existingStore(store ?? defaultStorePath)
            sweep = try db.sweep(named: target)
        } else {
            let plan = try SweepPlan(experimentPath: target, name: name, sets: sets, seeds: try parseSeeds(seeds))
            db = try RunStore(path: store ?? Experiment.load(target).spec.store)
            sweep = try db.createSweep(
                SweepRecord(name: plan.name, experimentPath: target, experimentYAML: plan.experimentYAML,
                            definitionYAML: plan.definitionYAML),
                trials: plan.trials)
            let configurations = Set(plan.trials.map(\.configuration)).count
            print("sweep \(plan.name): \(plan.trials.count) trials (\(configurations) configurations × "
                + "\(max(plan.windows.count, 1)) windows × \(plan.seeds.count) seeds) in \(db.path)")
        }
        // A PostgreSQL store has no folder: the logs go to runs/sweeps/NAME in the working directory.
        let pool = LocalPool(sweep: sweep, storePath: db.path, jobs: jobs ?? defaultJobs(),
                             executable: currentExecutable(),
                             logFolder: (db.folder ?? "runs") + "/sweeps/" + sweep.name)
        print("running \(pool.jobs) at a time; logs in \(pool.logFolder)")
        try pool.run { line in print(line) }
        let status = try SweepStatus(sweep.name, store: db)
        print(status.counts.filter { $0.count > 0 }.map { "\($0.count) \($0.status)" }.joined(separator: ", "))
        if status.counts.contains(where: { $0.status == "failed" && $0.count > 0 }) {
            throw CLIError("sweep \(sweep.name): some trials failed (tradesim sweep status \(sweep.name))")
        }
    }
}

/// `--seeds 1,2,3`.
func parseSeeds(_ text: String?) throws -> [Int]? {
    try text.map { t in
        try t.split(separator: ",", omittingEmptySubsequences: false).map { part in
            guard let s = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw CLIError("--seeds: '\(part)' is not a seed (e.g. --seeds 1,2,3)")
            }
            return s
        }
    }
}
