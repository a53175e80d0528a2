import Foundation
import Testing

@testable import RunStore

/// A store with one sweep of one pending trial.
func storeWithOneTrial(_ stores: TestStores) throws -> (store: RunStore, sweepId: Int64) {
    let store = try RunStore(path: stores.path("runs.sqlite"))
    let sweep = try store.createSweep(
        SweepRecord(name: "sw", experimentPath: "sw.yaml", experimentYAML: "", definitionYAML: ""),
        trials: [TrialRecord(index: 0, configuration: 0, seed: 1, assignmentsJSON: "[]", configHash: "h")])
    return (store, sweep.id!)
}

/// A trial's run: what `runTrial` makes for it.
func trialRun(_ trial: TrialRecord) -> RunRecord {
    RunRecord(
        name: "sw__dqn__\(trial.seed)", experiment: "sw", agent: "dqn", experimentYAML: "", configJSON: "{}",
        configHash: trial.configHash, codeVersion: "test", seed: trial.seed, startedAt: Date())
}

/// The Slurm job names an array task by its array job and index, and a plain job by its id.
@Test func slurmJobOfTheEnvironment() {
    #expect(
        RunOwner.slurmJob(["SLURM_JOB_ID": "14", "SLURM_ARRAY_JOB_ID": "12", "SLURM_ARRAY_TASK_ID": "3"]) == "12_3")
    #expect(RunOwner.slurmJob(["SLURM_JOB_ID": "14"]) == "14")
    #expect(RunOwner.slurmJob([:]) == nil)
}

/// A trial whose owner on another host still holds its lease is taken, except for a requeue of the same Slurm
/// array task (Slurm never runs one job twice at once), which takes it over; another task with the same index, or a
/// process outside Slurm, finds it taken.
@Test(arguments: Backend.all) func aRequeuedSlurmTaskTakesItsTrialOver(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let (store, sweepId) = try storeWithOneTrial(stores)
    guard case .started(let run) = try store.claimTrial(sweepId: sweepId, index: 0, job: "12_0", makeRun: trialRun)
    else { Issue.record("the pending trial was not started"); return }
    #expect(run.ownerJob == "12_0" && run.ownerHost == RunOwner.host)
    #expect(try store.run(id: run.id!).ownerJob == "12_0")
    // The task's node: another host, alive by its lease.
    try execute(
        store, "UPDATE run SET ownerHost = 'node7', ownerPid = 1, heartbeatAt = ? WHERE id = ?",
        sqlArguments(Date(), run.id!))
    for other in ["13_0", "12_1", nil] {
        let claim = try store.claimTrial(sweepId: sweepId, index: 0, job: other, makeRun: trialRun)
        guard case .taken(let owner) = claim else { Issue.record("job \(other ?? "none"): \(claim)"); continue }
        #expect(owner.ownerHost == "node7" && owner.ownerJob == "12_0")
    }
    let claim = try store.claimTrial(sweepId: sweepId, index: 0, job: "12_0", makeRun: trialRun)
    guard case .resumed(let resumed) = claim else { Issue.record("the requeue got \(claim)"); return }
    #expect(resumed.id == run.id && resumed.ownerHost == RunOwner.host && resumed.ownerPid == Int64(getpid()))
    #expect(resumed.ownerJob == "12_0")
    #expect(try store.runs().count == 1)
}

/// On this host the owner's pid decides, whatever its job: a live process keeps its trial against a task with the
/// same job name.
@Test(arguments: Backend.all) func aLiveOwnerOnThisHostKeepsItsTrial(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let (store, sweepId) = try storeWithOneTrial(stores)
    _ = try store.claimTrial(sweepId: sweepId, index: 0, job: "12_0", makeRun: trialRun)
    let claim = try store.claimTrial(sweepId: sweepId, index: 0, job: "12_0", makeRun: trialRun)
    guard case .taken = claim else { Issue.record("got \(claim)"); return }
}

/// A trial whose run has finished while the trial was left running (its process killed between the two writes) or
/// failed (the run finished afterwards by `train --resume`) is marked finished by the next claim, with no new run.
@Test(arguments: Backend.all) func aTrialWhoseRunFinishedIsMarkedFinished(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let (store, sweepId) = try storeWithOneTrial(stores)
    guard case .started(let run) = try store.claimTrial(sweepId: sweepId, index: 0, makeRun: trialRun) else {
        Issue.record("the pending trial was not started")
        return
    }
    try store.finishRun(run.id!)
    let states: [(TrialStatus, String?)] = [(.running, nil), (.failed, "disk full")]
    for (status, message) in states {
        try execute(
            store, "UPDATE trial SET status = ?, message = ? WHERE sweepId = ?", sqlArguments(status, message, sweepId))
        let claim = try store.claimTrial(sweepId: sweepId, index: 0, makeRun: trialRun)
        #expect(claim == .finished, "\(status): \(claim)")
        let trial = try store.trials(sweepId: sweepId)[0]
        #expect(trial.status == .finished && trial.message == nil && trial.runId == run.id, "\(status)")
    }
    #expect(try store.runs().count == 1)
}

/// A failed trial is retried: one that failed before it had a run gets a new run, one whose run failed takes that run
/// over (to resume it from its last checkpoint), and one whose run a live process trains (`train --resume`) is taken.
@Test(arguments: Backend.all) func aFailedTrialIsRetried(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let (store, sweepId) = try storeWithOneTrial(stores)
    try store.endTrial(sweepId: sweepId, index: 0, failure: "data.csv: no such file")
    guard case .started(let run) = try store.claimTrial(sweepId: sweepId, index: 0, makeRun: trialRun) else {
        Issue.record("the trial that failed without a run was not started")
        return
    }
    var trial = try store.trials(sweepId: sweepId)[0]
    #expect(trial.status == .running && trial.message == nil && trial.runId == run.id)

    try store.failRun(run.id!, message: "disk full")
    try store.endTrial(sweepId: sweepId, index: 0, failure: "disk full")
    let claim = try store.claimTrial(sweepId: sweepId, index: 0, makeRun: trialRun)
    guard case .resumed(let resumed) = claim else {
        Issue.record("the failed trial got \(claim)")
        return
    }
    #expect(resumed.id == run.id && resumed.ownerPid == Int64(getpid()))
    trial = try store.trials(sweepId: sweepId)[0]
    #expect(trial.status == .running && trial.message == nil)

    try store.setStatus(ofRun: run.id!, to: .running)  // this live process trains it
    try store.endTrial(sweepId: sweepId, index: 0, failure: "disk full")
    let taken = try store.claimTrial(sweepId: sweepId, index: 0, makeRun: trialRun)
    guard case .taken = taken else {
        Issue.record("a failed trial whose run is trained got \(taken)")
        return
    }
    #expect(try store.trials(sweepId: sweepId)[0].status == .failed && store.runs().count == 1)
}
