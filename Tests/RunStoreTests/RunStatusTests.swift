import Foundation
import GRDB
import Testing

@testable import RunStore

@Test func runStatusRawValuesAreStable() {
    // These strings are stored in the database: renaming a case would orphan old rows.
    #expect(RunStatus.allCases.map(\.rawValue) == ["running", "finished", "failed", "interrupted"])
}

/// A `running` row is `interrupted` once its process is gone (on this host: no process with its pid; on another: its
/// lease ran out), and stays `running` while it lives.
@Test(arguments: Backend.all) func runOwnedByADeadProcessReadsAsInterrupted(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let store = try RunStore(path: stores.path("runs.sqlite"))
    let live = try makeRun(store, seed: 1)
    #expect(live.ownerPid == Int64(getpid()) && live.ownerHost == RunOwner.host)
    let dead = try makeRun(store, seed: 2)
    let gone = Process()
    gone.executableURL = URL(fileURLWithPath: "/bin/true")
    try gone.run()
    gone.waitUntilExit()
    let remote = try makeRun(store, seed: 3)
    try execute(
        store, "UPDATE run SET ownerPid = ? WHERE id = ?",
        sqlArguments(Int64(gone.processIdentifier), dead.id!))
    try execute(
        store, "UPDATE run SET ownerHost = 'elsewhere', heartbeatAt = ? WHERE id = ?",
        sqlArguments(Date().addingTimeInterval(-2 * RunOwner.leaseSeconds), remote.id!))
    #expect(try store.runs().map(\.status) == [.running, .interrupted, .interrupted])
    #expect(try store.runs(status: .interrupted).map(\.id) == [dead.id, remote.id])
    #expect(try store.runs(status: .running).map(\.id) == [live.id])
    #expect(try store.run(id: dead.id!).message == "its process \(gone.processIdentifier) on \(RunOwner.host) is gone")
    #expect(try store.run(id: remote.id!).message == "its process \(getpid()) on elsewhere is gone")
}

/// Two processes that read the same interrupted run and resume it at once: the first claim makes its process the
/// owner, the second finds the run taken (its owner is no longer the one it read). A finished run is never claimed.
@Test(arguments: Backend.all) func onlyOneOfTwoResumesClaimsARun(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let store = try RunStore(path: stores.path("runs.sqlite"))
    let run = try makeRun(store)
    try execute(store, "UPDATE run SET ownerHost = 'elsewhere' WHERE id = ?", sqlArguments(run.id!))
    let first = try store.run(id: run.id!), second = try store.run(id: run.id!)
    #expect(first.ownerHost == "elsewhere" && second == first)
    #expect(try store.claimRun(first))
    #expect(try !store.claimRun(second))
    let claimed = try store.run(id: run.id!)
    #expect(claimed.ownerPid == Int64(getpid()) && claimed.ownerHost == RunOwner.host)
    try store.finishRun(run.id!)
    #expect(try !store.claimRun(try store.run(id: run.id!)))
}

/// A live process with a run's owner pid that started after the run's last heartbeat is not its owner (the pid came
/// back to another process, e.g. after a reboot): the run reads as interrupted. A process that started before keeps it
/// running.
@Test(arguments: Backend.all) func aPidTakenByALaterProcessDoesNotKeepARunRunning(_ backend: Backend) throws {
    #if os(Linux)
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("runs.sqlite"))
        let run = try makeRun(store)
        let later = Process()
        later.executableURL = URL(fileURLWithPath: "/bin/sleep")
        later.arguments = ["30"]
        try later.run()
        defer { later.terminate() }
        let started = try #require(RunOwner.startTime(of: later.processIdentifier))
        #expect(abs(started.timeIntervalSinceNow) < 5)
        let stale = Date().addingTimeInterval(-2 * RunOwner.startSlack)
        try execute(
            store, "UPDATE run SET ownerPid = ?, heartbeatAt = ? WHERE id = ?",
            sqlArguments(Int64(later.processIdentifier), stale, run.id!))
        #expect(try store.run(id: run.id!).status == .interrupted)
        try execute(
            store, "UPDATE run SET ownerPid = ?, heartbeatAt = ? WHERE id = ?",
            sqlArguments(Int64(getpid()), Date(), run.id!))
        #expect(try store.run(id: run.id!).status == .running)
    #endif
}
