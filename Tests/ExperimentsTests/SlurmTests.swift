import Foundation
import Testing

@testable import RunStore
@testable import Sweeps

/// Whether a Slurm cluster and PostgreSQL are there to submit to and write into: `scripts/cluster-up.sh` starts them
/// and exports TRADESIM_TEST_SLURM and TRADESIM_TEST_POSTGRES_URL.
let slurmAvailable = ProcessInfo.processInfo.environment["TRADESIM_TEST_SLURM"] != nil && postgresTestStore("x") != nil

/// The store the Slurm sweeps write to, as on a cluster: PostgreSQL (`TRADESIM_TEST_POSTGRES_URL`), in a schema named
/// after the test's folder, so each test's runs stay apart. The one place to change the backend.
func slurmStore(_ dir: String) -> String {
    let url = ProcessInfo.processInfo.environment["TRADESIM_TEST_POSTGRES_URL"] ?? ""
    let folder = (dir as NSString).lastPathComponent.lowercased()
    let schema = "slurm_" + folder.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
    return url + (url.contains("?") ? "&" : "?") + "schema=" + schema
}

/// The folder of a sweep's batch script and task logs, for sweeps submitted in `dir` to `slurmStore(dir)`: beside a
/// SQLite store, or under `runs/` in `dir` for PostgreSQL, which has no folder.
func slurmSweepFolder(_ dir: String, _ name: String) -> String {
    (RunStore.folder(of: slurmStore(dir)) ?? dir + "/runs") + "/sweeps/" + name
}

/// Runs a Slurm command of the test (scancel, scontrol) and requires it to succeed.
func slurmCommand(_ arguments: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    try p.run()
    p.waitUntilExit()
    try #require(p.terminationStatus == 0, "\(arguments.joined(separator: " ")) failed")
}

/// Submits the sweep of `experiment` to Slurm under a name of its own (the store may be shared), with its checkpoints
/// in `dir/slurm-checkpoints` (a PostgreSQL store needs a folder named), and returns the name.
func submitSlurmSweep(_ experiment: String, dir: String, _ extra: [String] = []) throws -> String {
    let name = "sw-" + UUID().uuidString.prefix(8).lowercased()
    let r = try runCLI(
        [
            "sweep", experiment, "--launcher", "slurm", "--store", slurmStore(dir), "--name", name,
            "--checkpoints", dir + "/slurm-checkpoints",
        ] + extra, in: dir)
    try #require(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("submitted Slurm job") && r.stdout.contains("checkpoints: \(dir)/slurm-checkpoints"))
    return name
}

/// Waits until trial `index`'s run has a checkpoint at step `step` or later, while the trial is still running.
func waitForCheckpoint(_ store: RunStore, sweep: String, index: Int, step: Int64) throws -> TrialRecord {
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
        let trial = try store.trials(sweepId: try store.sweep(named: sweep).id!)[index]
        try #require(trial.status != .finished, "trial \(index) finished before it could be stopped")
        if let runId = trial.runId, let last = try store.latestCheckpoint(runId: runId), last.globalStep >= step {
            return trial
        }
        usleep(20_000)
    }
    throw SlurmError("trial \(index) of \(sweep) has no checkpoint at step \(step) after 120 s")
}

/// Waits until task `index` of array job `job` is in a state that `condition` accepts.
func waitForTask(of job: String, index: Int64, _ condition: (SlurmTask) -> Bool) throws {
    let deadline = Date().addingTimeInterval(60)
    while try !(Slurm.tasks(ofJobs: [job])?[index].map(condition) ?? false) {
        guard Date() < deadline else { throw SlurmError("task \(job)_\(index) did not reach the state in 60 s") }
        usleep(50_000)
    }
}

/// A two-trial sweep long enough to be stopped halfway, and its trials' final weights when run locally.
let longSweep = Result { () throws -> (grid: String, weights: [String: String]) in
    let grid = "    agent.gamma: [0.99]"
    let t = try sweepExperiment(grid: grid, steps: 3_000)
    let r = try runCLI(["sweep", t.experiment, "--jobs", "2"])
    guard r.status == 0 else { throw SlurmError("the local reference sweep failed: \(r.stderr)") }
    return (grid, try trialWeights(try RunStore(path: t.store), sweep: "sw"))
}

@Suite(
    .serialized,
    .enabled(if: slurmAvailable, "no Slurm cluster or PostgreSQL: eval \"$(scripts/cluster-up.sh)\" first"))
struct SlurmTests {
    /// A 4-trial sweep submitted through sbatch ends with 4 runs in PostgreSQL whose final weights equal those of the
    /// same trials run on the local pool into SQLite; `sweep status` shows each array task.
    @Test func aSlurmSweepEqualsTheLocalOne() throws {
        let t = try sweepExperiment(grid: "    agent.learningRate: [1.0e-4, 1.0e-3]")
        let local = try runCLI(["sweep", t.experiment, "--jobs", "2"])
        try #require(local.status == 0, "\(local.stderr)")
        let reference = try trialWeights(try RunStore(path: t.store), sweep: "sw")
        #expect(reference.count == 4)

        defer { dropPostgresTestStore(slurmStore(t.dir)) }
        let name = try submitSlurmSweep(t.experiment, dir: t.dir, ["--max-parallel", "2"])
        let store = try RunStore(path: slurmStore(t.dir))
        #expect(store.folder == nil)
        let trials = try waitForSlurmSweep(name, store: store, timeout: 300)
        #expect(trials.map(\.status) == Array(repeating: .finished, count: 4))
        #expect(Set(trials.compactMap(\.runId)).count == 4)
        #expect(try trialWeights(store, sweep: name) == reference)
        let script = try String(contentsOfFile: slurmSweepFolder(t.dir, name) + "/array.sbatch", encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0-3%2\n") && script.contains("#SBATCH --requeue\n"))
        let status = try runCLI(["sweep", "status", name, "--store", slurmStore(t.dir)])
        #expect(status.status == 0 && status.stdout.contains("4 finished"), "\(status.stderr)")
        #expect(status.stdout.contains("_3 COMPLETED"), "\(status.stdout)")
    }

    /// An array task cancelled with scancel mid-run and requeued with scontrol resumes its run from its last
    /// checkpoint (the same run, its earlier checkpoints untouched) and ends with bit-identical weights.
    @Test func aCancelledTaskRequeuedResumesBitIdentical() throws {
        let (grid, reference) = try longSweep.get()
        let t = try sweepExperiment(grid: grid, steps: 3_000)
        defer { dropPostgresTestStore(slurmStore(t.dir)) }
        let name = try submitSlurmSweep(t.experiment, dir: t.dir)
        let store = try RunStore(path: slurmStore(t.dir))
        let trial = try waitForCheckpoint(store, sweep: name, index: 1, step: 500)
        let array = try #require(try store.sweep(named: name).jobId), job = array + "_1"
        try slurmCommand(["scancel", job])
        try waitForTask(of: array, index: 1) { $0.hasEnded }
        let ended = Date()
        #expect(try store.run(id: trial.runId!).status == .interrupted)
        let before = try store.checkpoints(runId: trial.runId!)
        // A requeued job waits two minutes before it may start again; the test lets it start sooner, but not in the
        // second of the cancel: slurmd revoked the job's credential then and refuses one made in the same second (its
        // times are whole seconds), so a task released at once can fail at launch with "Job credential revoked". Two
        // seconds after the task showed ended leave a margin for a revocation stamped after that.
        try slurmCommand(["scontrol", "requeue", job])
        try waitForTask(of: array, index: 1) { $0.state == "PENDING" }
        Thread.sleep(until: ended.addingTimeInterval(2))
        try slurmCommand(["scontrol", "update", "jobid=\(job)", "StartTime=now"])

        let trials = try waitForSlurmSweep(name, store: store, timeout: 300)
        #expect(trials.map(\.status) == [.finished, .finished])
        #expect(trials[1].runId == trial.runId)
        let after = try store.checkpoints(runId: trial.runId!)
        #expect(Array(after.prefix(before.count)) == before && after.count > before.count)
        #expect(try trialWeights(store, sweep: name) == reference)
        let indices = try store.episodes(runId: trial.runId!, split: .train).map(\.index)
        #expect(indices == Array(0..<Int64(indices.count)))
        let log = try String(contentsOfFile: slurmSweepFolder(t.dir, name) + "/trial-1.log", encoding: .utf8)
        #expect(log.contains("CANCELLED") && log.contains("trial 1 of sweep \(name): finished"), "\(log)")
    }

    /// `tradesim sweep cancel` stops every task and marks their runs interrupted; `--resume --launcher slurm` submits
    /// the unfinished trials again, which resume from their checkpoints to bit-identical weights.
    @Test func aCancelledSweepResubmittedEndsBitIdentical() throws {
        let (grid, reference) = try longSweep.get()
        let t = try sweepExperiment(grid: grid, steps: 3_000)
        defer { dropPostgresTestStore(slurmStore(t.dir)) }
        let name = try submitSlurmSweep(t.experiment, dir: t.dir)
        let store = try RunStore(path: slurmStore(t.dir))
        _ = try waitForCheckpoint(store, sweep: name, index: 0, step: 300)
        let cancel = try runCLI(["sweep", "cancel", name, "--store", slurmStore(t.dir)])
        #expect(cancel.status == 0 && cancel.stdout.contains("cancelled Slurm job"), "\(cancel.stderr)")
        let sweep = try store.sweep(named: name)
        let unfinished = try store.trials(sweepId: sweep.id!).filter { $0.status != .finished }
        let stopped = unfinished.filter { $0.status == .running }
        #expect(!stopped.isEmpty)
        for trial in stopped {
            #expect(try store.run(id: trial.runId!).message?.hasPrefix("its Slurm job \(sweep.jobId!)_") == true)
        }

        let resume = try runCLI(
            ["sweep", name, "--resume", "--launcher", "slurm", "--store", slurmStore(t.dir)],
            in: t.dir)
        #expect(
            resume.status == 0 && resume.stdout.contains("submitting \(unfinished.count) of 2 trials"),
            "\(resume.stdout) \(resume.stderr)")
        let trials = try waitForSlurmSweep(name, store: store, timeout: 300)
        #expect(trials.map(\.status) == [.finished, .finished])
        #expect(try store.sweep(named: name).jobId?.split(separator: ",").count == 2)
        #expect(try trialWeights(store, sweep: name) == reference)
    }

    /// Two array tasks given the same index: one trains the trial, the other exits with one line saying it is taken.
    @Test func twoTasksWithOneIndexTrainItOnce() throws {
        let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]", steps: 3_000)
        defer { dropPostgresTestStore(slurmStore(t.dir)) }
        let name = try submitSlurmSweep(t.experiment, dir: t.dir)
        let folder = slurmSweepFolder(t.dir, name)
        let store = try RunStore(path: slurmStore(t.dir))
        let first = try #require(try store.sweep(named: name).jobId)
        // The first task is stopped (SIGSTOP) once it trains, so it is still running when the second one, with the
        // same index, starts and finds the trial taken; it goes on once the second has ended.
        let trial = try waitForCheckpoint(store, sweep: name, index: 0, step: 100)
        let run = try store.run(id: try #require(trial.runId))
        // (by its pid: the test's cluster is this machine, as `scripts/cluster-up.sh` makes it)
        try #require(run.ownerHost == RunOwner.host, "the first task runs on \(run.ownerHost ?? "?"), not here")
        let pid = try #require(run.ownerPid)
        try #require(kill(pid_t(pid), SIGSTOP) == 0)
        var stopped = true
        defer { if stopped { kill(pid_t(pid), SIGCONT) } }
        try #require(try store.trials(sweepId: try store.sweep(named: name).id!)[0].status != .finished)
        let second = try Slurm.submit(
            folder + "/array.sbatch",
            arguments: ["--array=0", "--output=\(folder)/dup-%a.log"])
        func ended(_ job: String) throws -> Bool {
            try Slurm.tasks(ofJobs: [job])?.values.allSatisfy(\.hasEnded) ?? true
        }
        let deadline = Date().addingTimeInterval(300)
        while try !ended(second), Date() < deadline { usleep(100_000) }
        kill(pid_t(pid), SIGCONT)
        stopped = false
        while try !ended(first), Date() < deadline { usleep(100_000) }
        let trials = try store.trials(sweepId: try store.sweep(named: name).id!)
        #expect(trials.map(\.status) == [.finished])
        let logs = try ["trial-0.log", "dup-0.log"].map { file in
            try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
        }
        try #require(!logs[0].contains("is taken") && logs[1].contains("is taken"), "\(logs)")
        let lines = logs[1].split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: trial 0 of sweep \(name) is taken: run "), "\(lines)")
        #expect(lines[0].contains("(Slurm job \(first)"))
        #expect(logs[0].contains("trial 0 of sweep \(name): finished"))
    }
}
