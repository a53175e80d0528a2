import ArgumentParser
import Experiments
import Foundation
import MarketData
import NeuralCore
import RunStore
import Sweeps

/// Where a sweep's trials run.
enum Launcher: String, ExpressibleByArgument {
    /// A pool of processes on this machine.
    case local
    /// A Slurm job array, one task per trial.
    case slurm
}

/// `tradesim sweep experiments/X.yaml …` records a sweep and runs its trials (or submits them to Slurm);
/// `tradesim sweep NAME --resume` continues one.
struct SweepStart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Record a sweep of an experiment (its sweep: block, --set keys, seeds, walkForward windows) and run "
            + "its trials, --jobs at a time, or submit them as a Slurm job array; or continue a sweep with --resume.",
        discussion: """
            Every trial is a normal run linked to its sweep. Keys are dotted paths: agent.X and environment.X lay over \
            the agent and environment files, other keys are the experiment's. A failed trial does not stop the \
            others. A killed sweep continues with `tradesim sweep NAME --resume`: unfinished and failed trials resume \
            from their checkpoints (or start again without one), pending ones start, finished ones are left alone. \
            With --launcher slurm the command writes the batch script sweeps/NAME/array.sbatch beside the store \
            (under runs/ in the working directory for a PostgreSQL store), submits it with sbatch and returns; \
            --resume submits the unfinished and failed trials again.
            """)

    @Argument(help: "experiments/NAME.yaml (a new sweep), or a sweep's name with --resume.")
    var target: String
    @Option(
        name: .customLong("set"),
        help: "A grid key and its values, e.g. --set agent.learningRate=1e-4,3e-4 (repeatable).")
    var sets: [String] = []
    @Option(
        parsing: .unconditional,
        help: "Seeds crossing every configuration, e.g. 1,2,3 (default: the experiment's seeds).")
    var seeds: String?
    @Option(help: "The sweep's name (default: the experiment file's base name).")
    var name: String?
    @Option(help: "The run store (default: the experiment's store key).")
    var store: String?
    @Option(
        help: ArgumentHelp(
            "The trials' checkpoint folder (default: the experiment's checkpoints key, else "
                + "checkpoints/ beside the store); on Slurm, a folder every node can see."))
    var checkpoints: String?
    @Option(
        help: ArgumentHelp(
            "local (processes on this machine; the default) or slurm (a job array); with --resume "
                + "the default is the sweep's launcher."))
    var launcher: Launcher?
    @Option(
        parsing: .unconditional,
        help: "With the local launcher: trials at once (default: the cores divided by the threads per trial).")
    var jobs: Int?
    @OptionGroup var slurm: SlurmFlags
    @Flag(help: "Continue the sweep named by the argument.")
    var resume = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let checkpoints, !resume { try createFolder(checkpoints, label: "--checkpoints") }
        if resume && (!sets.isEmpty || seeds != nil || name != nil || checkpoints != nil) {
            throw ValidationError("--resume takes only --store, --launcher, --jobs and the Slurm options")
        }
        if launcher != .slurm, let flag = slurm.given.first {
            throw ValidationError("\(flag) goes with --launcher slurm")
        }
        if launcher == .slurm && jobs != nil { throw ValidationError("--jobs goes with the local launcher") }
    }

    func run() throws {
        if resume { try continueSweep() } else { try startSweep() }
    }

    /// Plans the sweep (checking every configuration), records it with its trials, and runs or submits them.
    func startSweep() throws {
        var experiment = try Experiment.load(target)
        let plan = try SweepPlan(
            experimentPath: target, name: name, sets: sets, seeds: try parseSeeds(seeds),
            checkpoints: checkpoints.map(absolutePath))
        let location = store ?? experiment.spec.store
        experiment.spec.checkpoints = checkpoints ?? experiment.spec.checkpoints  // the trials' folder
        let record = SweepRecord(
            name: plan.name, experimentPath: target, experimentYAML: plan.experimentYAML,
            definitionYAML: plan.definitionYAML, launcher: (launcher ?? .local).rawValue)
        guard launcher == .slurm else {
            let db = try RunStore(path: location)
            try createRunFolders(experiment, store: location)
            let folder = try checkpointFolder(of: record, trial: plan.trials[0], store: db.path)
            return try runPool(try create(record, plan, folder: folder, in: db), db)
        }
        // slurmArray refuses a password in the URL, so the location can be shown from here on.
        let array = try slurmArray(
            plan.name, trials: plan.trials, submitting: plan.trials.map(\.index), store: location)
        let folder = try checkpointFolder(of: record, trial: plan.trials[0], store: location)
        if slurm.dryRun { return try show(array, checkpoints: folder) }
        let db = try RunStore(path: location)
        try createRunFolders(experiment, store: location)
        try submit(array, sweep: try create(record, plan, folder: folder, in: db), store: db, location: location)
    }

    /// Records the sweep with its trials and says so.
    func create(_ record: SweepRecord, _ plan: SweepPlan, folder: String, in db: RunStore) throws -> SweepRecord {
        let sweep = try db.createSweep(record, trials: plan.trials)
        let configurations = Set(plan.trials.map(\.configuration)).count
        print(
            "sweep \(plan.name): \(plural(plan.trials.count, "trial")) (\(plural(configurations, "configuration")) × "
                + "\(plural(max(plan.windows.count, 1), "window")) × \(plural(plan.seeds.count, "seed"))) in \(db.path)"
        )
        print("checkpoints: " + folder)
        return sweep
    }

    /// Continues a recorded sweep, retrying its failed trials: on this machine, or by submitting its unfinished and
    /// failed trials to Slurm again.
    func continueSweep() throws {
        let location = store ?? defaultStorePath
        let db = try existingStore(location)
        let sweep = try db.sweep(named: target)
        try checkSweepName(sweep.name, source: "\(db.path): sweep")  // one copied from another store
        let trials = try db.trials(sweepId: sweep.id!)
        let failed = Set(trials.filter { $0.status == .failed }.map(\.index))
        guard (launcher ?? Launcher(rawValue: sweep.launcher)) == .slurm else {
            if !failed.isEmpty { print("sweep \(sweep.name): " + retrying(failed.count)) }
            return try runPool(sweep, db)
        }
        let runs = Dictionary(uniqueKeysWithValues: try db.runs().map { ($0.id!, $0) })
        let indices = SlurmArray.resubmittable(trials, runs: runs)
        guard !indices.isEmpty else {
            let counts = try SweepStatus(sweep.name, store: db).counts.filter { $0.count > 0 }
            print(
                "sweep \(sweep.name): no trial to submit ("
                    + counts.map { "\($0.count) \($0.status)" }.joined(separator: ", ") + ")")
            return
        }
        let array = try slurmArray(sweep.name, trials: trials, submitting: indices, store: location)
        let folder = try checkpointFolder(of: sweep, trial: trials[0], store: location)
        if slurm.dryRun { return try show(array, checkpoints: folder) }
        let retried = indices.filter(failed.contains).count
        print(
            "sweep \(sweep.name): submitting \(indices.count) of \(trials.count) trials again"
                + (retried > 0 ? " (\(retrying(retried)))" : ""))
        print("checkpoints: " + folder)
        try submit(array, sweep: sweep, store: db, location: location)
    }

    /// What `--resume` says of the failed trials it runs again.
    func retrying(_ count: Int) -> String { "retrying " + plural(count, "failed trial") }

    /// The sweep's job array; a store URL with a password is refused (the batch script would hold it).
    func slurmArray(_ name: String, trials: [TrialRecord], submitting: [Int64], store location: String) throws
        -> SlurmArray
    {
        if RunStore.holdsPassword(location) {
            throw CLIError(
                "--store: with --launcher slurm give the password in ~/.pgpass or PGPASSWORD (sbatch passes "
                    + "the environment to the tasks), not in the URL, which the batch script would hold")
        }
        return try SlurmArray(
            sweep: name, trials: trials, submitting: submitting, store: location,
            executable: currentExecutable(),
            workingDirectory: FileManager.default.currentDirectoryPath, options: slurm.options)
    }

    /// `--dry-run`: writes the script and prints it with what would be submitted.
    func show(_ array: SlurmArray, checkpoints folder: String) throws {
        try array.write()
        print(array.script, terminator: "")
        print(
            "dry run: wrote \(array.scriptPath); nothing submitted or recorded; would run: "
                + array.commands.joined(separator: "; then "))
        print("checkpoints: " + folder)
    }

    /// Writes the script and submits it, recording each job id in the store as soon as Slurm returns it.
    func submit(_ array: SlurmArray, sweep: SweepRecord, store db: RunStore, location: String) throws {
        try array.write()
        var jobs = sweep.jobId.map { $0.split(separator: ",").map(String.init) } ?? []
        do {
            try array.submit { job in
                jobs.append(job)
                try db.setJob(ofSweep: sweep.id!, launcher: Launcher.slurm.rawValue, jobId: jobs.joined(separator: ","))
                print("submitted Slurm job \(job)")
            }
        } catch let error as SlurmError {
            throw SlurmError(
                "\(error) (sweep \(sweep.name) is recorded: submit it with tradesim sweep \(sweep.name) "
                    + "--resume --launcher slurm --store \(location))")
        }
        print("script: \(array.scriptPath); each task's output: \(array.folder)/trial-I.log")
        print(
            "follow it with tradesim sweep status \(sweep.name) --store \(location); "
                + "stop it with tradesim sweep cancel \(sweep.name) --store \(location)")
    }

    /// Runs the sweep's trials on this machine until none can run, then prints the counts.
    func runPool(_ sweep: SweepRecord, _ db: RunStore) throws {
        let pool = LocalPool(
            sweep: sweep, store: db, jobs: jobs ?? defaultJobs(threadsPerTrial: blasThreads()),
            executable: currentExecutable(), logFolder: sweepFolder(sweep.name, store: db.path))
        print("running \(pool.jobs) at a time; logs in \(pool.logFolder)")
        // Each line as it happens, also into a file or pipe (where stdout is block-buffered; nil flushes every stream).
        fflush(nil)
        try pool.run { line in
            print(line)
            fflush(nil)
        }
        let counts = try SweepStatus(sweep.name, store: db).counts.filter { $0.count > 0 }
        print(counts.map { "\($0.count) \($0.status)" }.joined(separator: ", "))
        // A trial whose process was killed (interrupted) is as unfinished as a failed one: the sweep has no result.
        let unfinished = counts.filter { $0.status == "failed" || $0.status == "interrupted" }
        if let first = unfinished.first {
            throw CLIError(
                "sweep \(sweep.name): \(plural(first.count, "trial")) \(first.status)"
                    + unfinished.dropFirst().map { ", \($0.count) \($0.status)" }.joined()
                    + " (tradesim sweep status \(sweep.name) --store \(db.path)); run them again with tradesim sweep "
                    + "\(sweep.name) --resume --store \(db.path)")
        }
    }
}

/// `--seeds 1,2,3`.
func parseSeeds(_ text: String?) throws -> [Int]? {
    try text.map { t in
        let seeds = try t.split(separator: ",", omittingEmptySubsequences: false).map { part in
            guard let s = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw CLIError("--seeds: '\(part)' is not a seed (e.g. --seeds 1,2,3)")
            }
            return s
        }
        if let twice = repeatedValue(seeds) { throw CLIError("--seeds: \(twice) is given twice") }
        return seeds
    }
}
