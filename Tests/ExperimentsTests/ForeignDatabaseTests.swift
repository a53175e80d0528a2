import Foundation
import GRDB
import Testing

/// Commands never make a SQLite file of something else a run store: every command that reads runs refuses one with
/// tables of its own, an empty one and a zero-byte one, and every command that writes runs refuses one with tables, in
/// one line naming the file; the file is left byte for byte as it was, with no `-wal` or `-shm` beside it.
@Test func commandsNeverMakeAnotherDatabaseAStore() throws {
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]", steps: 100)
    let plain = t.dir + "/plain.sqlite", tableless = t.dir + "/tableless.sqlite", empty = t.dir + "/empty.sqlite"
    try DatabaseQueue(path: plain).write { db in try db.execute(sql: "CREATE TABLE foo(x); INSERT INTO foo VALUES (1)")
    }
    try DatabaseQueue(path: tableless).writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = 7") }
    #expect(FileManager.default.createFile(atPath: empty, contents: nil))
    try seededStore(t.store)
    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: t.dir).filter { !$0.hasPrefix("runs.sqlite") }.sorted()
    }
    let before = try files()
    let reads = [
        ["runs"], ["export", "1"], ["evaluate", "1"], ["replay", "1"], ["compare", "1"],
        ["report", "1", "--out", t.dir + "/report.html"], ["sweeps"], ["sweep", "status", "sw"],
        ["sweep", "results", "sw"], ["runs", "rm", "1", "--yes"], ["ensemble", "1"],
    ]
    for (file, contents) in [(plain, "it has tables foo"), (tableless, "it is empty"), (empty, "it is empty")] {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        var commands = reads.map { $0 + ["--store", file] } + [["store", "copy", file, t.dir + "/copy.sqlite"]]
        if file == plain {
            commands += [
                ["store", "copy", t.store, file], ["train", t.experiment, "--store", file],
                ["sweep", t.experiment, "--store", file],
            ]
        }
        for command in commands {
            let r = try runCLI(command)
            #expect(r.failsWithOneErrorLine, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("\(file): not a tradesim run store (\(contents))"), "\(command): \(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == bytes, "\(file)")
    }
    #expect(try files() == before)
}
