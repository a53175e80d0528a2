import Foundation
import Testing

@testable import RunStore
@testable import Sweeps

/// Trials of a walk-forward sweep with warm start: 2 configurations × 3 windows × 1 seed, each window after the one
/// before (as `SweepPlan` makes them).
func warmStartTrials() -> [TrialRecord] {
    (0..<Int64(6)).map { i -> TrialRecord in
        let after: Int64? = i % 3 == 0 ? nil : i - 1
        return TrialRecord(
            index: i, configuration: i / 3, window: i % 3, seed: 1, assignmentsJSON: "[]",
            configHash: "h\(i)", after: after)
    }
}

/// The batch script: one array index per trial with the throttle, `--requeue`, the working directory, one appended
/// output file per task, the options in order, and the task's command with its words quoted.
@Test func theBatchScriptRunsOneTrialPerTask() throws {
    let trials = (0..<Int64(4)).map { i in
        TrialRecord(index: i, configuration: 0, seed: 1, assignmentsJSON: "[]", configHash: "h")
    }
    let options = SlurmOptions(
        partition: "debug", time: "01:30:00", cpusPerTask: 2, mem: "4G", maxParallel: 3,
        sbatchArgs: ["--account=lab", "--qos=low"])
    let array = try SlurmArray(
        sweep: "sw", trials: trials, submitting: [0, 1, 2, 3], store: "/data/it's.sqlite",
        executable: "/opt/tradesim", workingDirectory: "/srv/me/project", options: options)
    #expect(array.folder == "/data/sweeps/sw" && array.scriptPath == "/data/sweeps/sw/array.sbatch")
    let lines = array.script.split(separator: "\n").filter { !$0.hasPrefix("# ") }
    #expect(
        lines == [
            "#!/bin/bash", "#SBATCH --job-name=sw", "#SBATCH --array=0-3%3", "#SBATCH --requeue",
            "#SBATCH --chdir=/srv/me/project", "#SBATCH --output=/data/sweeps/sw/trial-%a.log",
            "#SBATCH --open-mode=append",
            "#SBATCH --partition=debug", "#SBATCH --time=01:30:00", "#SBATCH --cpus-per-task=2", "#SBATCH --mem=4G",
            "#SBATCH --account=lab", "#SBATCH --qos=low",
            #"exec '/opt/tradesim' sweep run-trial 'sw' --index "$SLURM_ARRAY_TASK_ID" --store '/data/it'\''s.sqlite'"#,
        ])
    // One wave: the script says everything.
    #expect(array.commands == ["sbatch --parsable /data/sweeps/sw/array.sbatch"])
    // A PostgreSQL store has no folder: the sweep's files go under runs/ in the working directory.
    let url = try SlurmArray(
        sweep: "sw", trials: trials, submitting: [0], store: "postgresql://me@db:5432/runs",
        executable: "/opt/tradesim", workingDirectory: "/w", options: SlurmOptions())
    #expect(url.folder == FileManager.default.currentDirectoryPath + "/runs/sweeps/sw")
    #expect(url.script.contains("--store 'postgresql://me@db:5432/runs'") && url.script.contains("--array=0%100\n"))
}

/// Windows that start from the window before go in later waves, each job waiting for the job before; array
/// specifications list ranges.
@Test func warmStartWindowsAreSubmittedInWaves() throws {
    let trials = warmStartTrials()
    #expect(SlurmArray.waves(trials, submitting: [0, 1, 2, 3, 4, 5]) == [[0, 3], [1, 4], [2, 5]])
    // A trial whose predecessor is not submitted again (it finished) starts in the first wave.
    #expect(SlurmArray.waves(trials, submitting: [2, 4, 5]) == [[2, 4], [5]])
    let array = try SlurmArray(
        sweep: "wf", trials: trials, submitting: [0, 1, 2, 3, 4, 5], store: "/s/r.sqlite",
        executable: "/t", workingDirectory: "/w", options: SlurmOptions(maxParallel: 2))
    #expect(array.script.contains("#SBATCH --array=0-5%2\n"))
    #expect(
        array.commands == [
            "sbatch --parsable --array=0,3%2 /s/sweeps/wf/array.sbatch",
            "sbatch --parsable --array=1,4%2 --dependency=afterany:<job of wave 1> /s/sweeps/wf/array.sbatch",
            "sbatch --parsable --array=2,5%2 --dependency=afterany:<job of wave 2> /s/sweeps/wf/array.sbatch",
        ])
    #expect(array.arraySpec([7, 1, 2, 3, 5, 9, 10]) == "1-3,5,7,9-10%2")
}

/// A run of the store with this status.
func storedRun(_ id: Int64, _ status: RunStatus) -> RunRecord {
    RunRecord(
        id: id, name: "r\(id)", experiment: "wf", agent: "a", experimentYAML: "", configJSON: "{}",
        configHash: "h", codeVersion: "v", seed: 1, status: status, startedAt: Date())
}

/// A resubmission runs the pending trials, those whose process is gone and the failed ones (a retry), not finished or
/// live ones, nor a trial whose predecessor has not finished and is not submitted with it.
@Test func resubmissionTakesTheUnfinishedTrials() throws {
    var trials = warmStartTrials()
    trials[0].status = .finished
    (trials[1].status, trials[1].runId) = (.running, 1)  // its process is gone
    trials[2].status = .pending  // after 1, which is submitted too
    trials[3].status = .failed  // retried
    trials[4].status = .pending  // after 3, which is retried
    (trials[5].status, trials[5].runId) = (.running, 2)  // live
    let runs: [Int64: RunRecord] = [1: storedRun(1, .interrupted), 2: storedRun(2, .running)]
    #expect(SlurmArray.resubmittable(trials, runs: runs) == [1, 2, 3, 4])
    (trials[3].status, trials[3].runId) = (.failed, 2)  // its run is trained by a live process (train --resume)
    #expect(SlurmArray.resubmittable(trials, runs: runs) == [1, 2])
}

/// A trial needs a process (the local pool starts one, a resubmission submits one) when it is pending, failed (a
/// retry), or running while no process runs its run: its process is gone, its run failed, or its run finished
/// without the trial being marked (the claim marks it).
@Test func whichTrialsNeedAProcess() {
    let trial = { (status: TrialStatus, runId: Int64?) in
        TrialRecord(
            index: 0, configuration: 0, seed: 1, assignmentsJSON: "[]", configHash: "h", status: status, runId: runId)
    }
    #expect(needsProcess(trial(.pending, nil), run: nil))
    #expect(!needsProcess(trial(.finished, 1), run: storedRun(1, .finished)))
    #expect(needsProcess(trial(.failed, nil), run: nil))
    let needed: [(RunStatus, Bool)] = [(.running, false), (.interrupted, true), (.failed, true), (.finished, true)]
    for status in [TrialStatus.running, .failed] {
        for (runStatus, expected) in needed {
            let run = storedRun(1, runStatus)
            #expect(needsProcess(trial(status, 1), run: run) == expected, "\(status), run \(runStatus)")
        }
    }
}

/// A name or folder with a space cannot go on an #SBATCH line.
@Test func aSpaceInTheSweepFolderIsRefused() {
    let trials = [TrialRecord(index: 0, configuration: 0, seed: 1, assignmentsJSON: "[]", configHash: "h")]
    #expect(throws: (any Error).self) {
        try SlurmArray(
            sweep: "sw", trials: trials, submitting: [0], store: "/my runs/r.sqlite", executable: "/t",
            workingDirectory: "/w", options: SlurmOptions())
    }
}
