import Foundation
import GRDB
import Testing

@testable import RunStore

/// A writer process killed with SIGKILL at any moment leaves a consistent store: every episode complete, no orphan
/// rows. Linux only: there the test bundle is an executable that can run one test (the child writer) in a new process.
@Suite struct KillTests {
    static let childPathVariable = "RUNSTORE_KILL_CHILD_DB"
    static let childRunVariable = "RUNSTORE_KILL_CHILD_RUN"
    static let stepsPerEpisode = 2_000

    static var canSpawnTestBundle: Bool {
        #if os(Linux)
            let executable = CommandLine.arguments[0]
            return executable.hasSuffix(".xctest") && FileManager.default.isExecutableFile(atPath: executable)
                && ProcessInfo.processInfo.environment[childPathVariable] == nil
        #else
            return false
        #endif
    }

    /// The child: writes episodes into an existing store until it is killed.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[KillTests.childPathVariable] != nil))
    func childWriter() throws {
        let environment = ProcessInfo.processInfo.environment
        let store = try RunStore(path: environment[Self.childPathVariable]!)
        let runId = Int64(environment[Self.childRunVariable]!)!
        for i in 0..<1_000_000 {
            try store.writeEpisode(
                makeEpisode(runId: runId, index: Int64(i), steps: Self.stepsPerEpisode),
                steps: makeSteps(Self.stepsPerEpisode), trades: makeTrades(20),
                metrics: makeMetrics(globalStep: Int64(i)))
        }
    }

    @Test(.enabled(if: KillTests.canSpawnTestBundle), arguments: Backend.all)
    func killedWriterLeavesConsistentStore(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("killed.sqlite")
        let store = try RunStore(path: path)
        let runId = try makeRun(store).id!
        for (round, delay) in [0.0, 0.007, 0.013].enumerated() {
            let before = try scalar(store, "SELECT COUNT(*) FROM episode")
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["--testing-library", "swift-testing", "--filter", "RunStoreTests.KillTests/childWriter"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.childPathVariable] = path
            environment[Self.childRunVariable] = "\(runId)"
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }

            // Wait until the child has committed a few episodes, then kill it somewhere inside a later one.
            let deadline = Date().addingTimeInterval(120)
            while try scalar(store, "SELECT COUNT(*) FROM episode") < before + 3 && Date() < deadline && child.isRunning
            {
                Thread.sleep(forTimeInterval: 0.01)
            }
            #expect(child.isRunning, "round \(round): the child writer stopped by itself")
            Thread.sleep(forTimeInterval: delay)
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)

            let reopened = try RunStore(path: path)
            #expect(try reopened.integrityCheck() == "ok")
            let episodes = try reopened.episodes(runId: runId)
            #expect(episodes.count >= before + 3)
            let orphans = try scalar(
                reopened, "SELECT COUNT(*) FROM step WHERE episodeId NOT IN (SELECT id FROM episode)")
            #expect(orphans == 0)
            #expect(try scalar(reopened, "SELECT COUNT(*) FROM step") == episodes.count * Self.stepsPerEpisode)
            #expect(try scalar(reopened, "SELECT COUNT(*) FROM trade") == episodes.count * 20)
            #expect(try scalar(reopened, "SELECT COUNT(*) FROM metric") == episodes.count * 3)
            if backend == .sqlite {
                #expect(try reopened.pool.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }.isEmpty)
            }
        }
        // The store is still writable after the crashes.
        try store.writeEpisode(makeEpisode(runId: runId, index: 999), steps: makeSteps(10))
    }
}
