import Foundation
import GRDB
import Testing

@testable import RunStore

/// With no `checkpoints:` key, a run checkpoints every tenth of its steps into `checkpoints/` beside its store (not the
/// working directory), the store records those files relative to its folder, and the folder can be moved: the moved
/// store still evaluates, verifies and compares.
@Test func checkpointsLiveBesideTheStoreAndMoveWithIt() throws {
    let dir = try temporaryDirectory()
    let yaml =
        tinyDQNExperiment() + """
            seeds: [3]
            steps: 200
            evaluateOn: [validation]
            store: \(dir)/store/runs.sqlite
            """
    try yaml.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
    let work = try temporaryDirectory()  // the working directory gets nothing
    let r = try runCLI(["train", dir + "/tiny.yaml"], in: work)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: work).isEmpty)

    let store = try RunStore(path: dir + "/store/runs.sqlite")
    let run = try #require(try store.runs().first)
    let checkpoints = try store.checkpoints(runId: run.id!)
    #expect(Array(Set(checkpoints.map(\.globalStep))).sorted() == Array(stride(from: 20, through: 200, by: 20)))
    #expect(checkpoints.allSatisfy { $0.file.hasPrefix(dir + "/store/checkpoints/\(run.name)/step-") })
    let recorded = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT file FROM checkpoint") }
    #expect(!recorded.isEmpty && recorded.allSatisfy { $0.hasPrefix("checkpoints/\(run.name)/step-") }, "\(recorded)")

    // Move the whole folder: everything that reads checkpoints still works from the new place.
    let moved = try temporaryDirectory() + "/moved"
    try FileManager.default.moveItem(atPath: dir + "/store", toPath: moved)
    let movedStore = moved + "/runs.sqlite"
    let evaluated = try runCLI(["evaluate", run.name, "--store", movedStore], in: work)
    #expect(evaluated.status == 0, "\(evaluated.stderr)")
    let verified = try runCLI(["replay", run.name, "--verify", "--store", movedStore], in: work)
    #expect(verified.status == 0 && verified.stdout.contains("verified"), "\(verified.stderr)")
    let compared = try runCLI(["compare", run.name, "--store", movedStore, "--format", "json"], in: work)
    #expect(compared.status == 0, "\(compared.stderr)")
}
