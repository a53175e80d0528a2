import Foundation
import Testing

@testable import RunStore
@testable import Sweeps

/// Slurm options without `--launcher slurm`, or with bad values, fail before anything runs with one line naming the
/// flag; so does a PostgreSQL store without a checkpoint folder (it has none of its own), or with its password in the
/// URL.
@Test func badSlurmFlagsFailBeforeAnythingRuns() throws {
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]")
    let slurm = ["--launcher", "slurm"]
    for (args, message) in [
        (["--partition", "debug"], "--partition goes with --launcher slurm"),
        (["--launcher", "local", "--dry-run"], "--dry-run goes with --launcher slurm"),
        (slurm + ["--jobs", "2"], "--jobs goes with the local launcher"),
        (slurm + ["--time", "2h"], "--time: '2h' is not a Slurm time limit"),
        (slurm + ["--mem", "4 GB"], "--mem: '4 GB' is not a Slurm memory size"),
        (slurm + ["--max-parallel", "0"], "--max-parallel must be at least 1, got 0"),
        (
            slurm + ["--store", "postgresql://me@db/runs"],
            "postgresql://me@db/runs: a PostgreSQL store has no folder for checkpoints; name one with "
                + "--checkpoints"
        ),
        (
            slurm + ["--store", "postgresql://me:secret@db/runs", "--checkpoints", t.dir],
            "not in the URL"
        ),
        (slurm + ["--store", "postgresql://me@db/runs?password=secret", "--dry-run"], "not in the URL"),
        // A URL that does not parse (a / in the password) is refused too, before its folder is looked for.
        (slurm + ["--store", "postgresql://me:se/cret@db/runs", "--dry-run"], "not in the URL"),
    ] {
        let r = try runCLI(["sweep", t.experiment] + args)
        #expect(r.failsWithOneErrorLine && r.stderr.contains(message), "\(args): \(r.stderr)")
        #expect(!r.stderr.contains("secret") && !r.stderr.contains("cret@"), "\(r.stderr)")
        #expect(!r.stdout.contains("secret"), "\(r.stdout)")
    }
    #expect(!FileManager.default.fileExists(atPath: t.store))
    #expect(!FileManager.default.fileExists(atPath: t.dir + "/sweeps"))
}

/// `--dry-run` writes the batch script and prints it, and submits and records nothing.
@Test func aDryRunWritesTheScriptOnly() throws {
    let t = try sweepExperiment(grid: "    agent.learningRate: [1.0e-4, 1.0e-3]")
    let r = try runCLI(
        [
            "sweep", t.experiment, "--launcher", "slurm", "--dry-run", "--max-parallel", "3",
            "--partition", "gpu", "--sbatch-arg", "--account=lab", "--checkpoints", "ckpt",
        ], in: t.dir)
    #expect(r.status == 0, "\(r.stderr)")
    let script = try String(contentsOfFile: t.dir + "/sweeps/sw/array.sbatch", encoding: .utf8)
    #expect(r.stdout.hasPrefix(script))
    #expect(script.contains("#SBATCH --array=0-3%3\n") && script.contains("#SBATCH --partition=gpu\n"))
    #expect(script.contains("#SBATCH --account=lab\n") && script.contains("--store '\(t.store)'"))
    #expect(r.stdout.contains("nothing submitted or recorded; would run: sbatch --parsable \(t.dir)/sweeps/sw/"))
    #expect(r.stdout.contains("checkpoints: \(t.dir)/ckpt\n"))
    #expect(!FileManager.default.fileExists(atPath: t.store))
}

/// Without sbatch the submission fails with one line; the sweep stays recorded, and says how to submit it again.
/// Without squeue, `sweep status` says so in one line and shows the store's view; neither that sweep before it is
/// submitted nor a local sweep has a job to cancel.
@Test func withoutSlurmEachCommandSaysSoInOneLine() throws {
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]")
    let noSlurm = ["PATH": "/nonexistent"]
    let r = try runCLI(
        ["sweep", t.experiment, "--launcher", "slurm", "--checkpoints", t.dir + "/ckpt"], in: t.dir,
        environment: noSlurm)
    #expect(r.failsWithOneErrorLine && r.stderr.contains("sbatch is not installed"), "\(r.stderr)")
    #expect(r.stderr.contains("submit it with tradesim sweep sw --resume --launcher slurm"))
    let store = try RunStore(path: t.store)
    #expect(try store.sweep(named: "sw").launcher == "slurm" && store.sweep(named: "sw").jobId == nil)
    let unsubmitted = try runCLI(["sweep", "cancel", "sw", "--store", t.store], environment: noSlurm)
    #expect(
        unsubmitted.failsWithOneErrorLine
            && unsubmitted.stderr.contains(
                "sweep sw was never submitted to Slurm, so there is nothing to cancel (submit it with tradesim sweep "
                    + "sw --resume --launcher slurm --store \(t.store))"),
        "\(unsubmitted.stderr)")

    try store.setJob(ofSweep: try store.sweep(named: "sw").id!, launcher: "slurm", jobId: "41")
    let status = try runCLI(["sweep", "status", "sw", "--store", t.store], environment: noSlurm)
    #expect(
        status.status == 0 && status.stdout.contains("Slurm job 41: squeue is not installed here"),
        "\(status.stdout)")
    #expect(status.stdout.contains("1 pending"))

    let local = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]", steps: 200)
    #expect(try runCLI(["sweep", local.experiment]).status == 0)
    let localStatus = try runCLI(["sweep", "status", "sw", "--store", local.store])
    #expect(localStatus.stdout.contains("sweep sw runs on the local launcher (no Slurm job)"), "\(localStatus.stdout)")
    let cancel = try runCLI(["sweep", "cancel", "sw", "--store", local.store])
    #expect(cancel.failsWithOneErrorLine && cancel.stderr.contains("sweep sw has no Slurm job"), "\(cancel.stderr)")
}
