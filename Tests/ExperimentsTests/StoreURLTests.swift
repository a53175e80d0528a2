import Foundation
import Testing

@testable import RunStore

/// A PostgreSQL store that cannot be reached or entered fails with one error line that never shows the password.
@Test(arguments: [
    (
        "postgresql://ann:s3cret@127.0.0.1:1/runs",
        "postgresql://ann@127.0.0.1:1/runs: cannot connect to 127.0.0.1:1 (connection refused)"
    ),
    ("postgresql://ann:s3cret@127.0.0.1:x/runs", "postgresql://ann@127.0.0.1:x/runs: not a PostgreSQL URL"),
    ("postgres://ann:s3cret@[::1:5432/runs", "postgres://ann@[::1:5432/runs: not a PostgreSQL URL"),
])
func unreachableStoreIsOneLineWithoutPassword(_ url: String, _ message: String) throws {
    let never = NSTemporaryDirectory() + "/never.sqlite"
    for command in [["runs"], ["sweeps"], ["export", "1"], ["store", "copy", url, never]] {
        let r = try runCLI(command + (command[0] == "store" ? [] : ["--store", url]))
        #expect(r.status != 0 && r.stderrLines.count == 1, "\(command): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(command): \(r.stderr)")
        #expect(!r.stderr.contains("s3cret") && !r.stdout.contains("s3cret"), "\(command): \(r.stderr)")
    }
}

/// A wrong password (given in the URL, which beats PGPASSWORD) is refused by the server in one line without it.
@Test(.enabled(if: postgresTestStore("x") != nil))
func wrongPasswordIsOneLineWithoutIt() throws {
    let url = try #require(postgresTestStore("wrongpw"))
    let wrong = url.replacingOccurrences(of: "@", with: ":n0tThis@")
    let location = try PostgresLocation(url)
    let r = try runCLI(["runs", "--store", wrong])
    #expect(r.status != 0 && r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("password authentication failed for user \"\(location.user)\""), "\(r.stderr)")
    #expect(!r.stderr.contains("n0tThis"), "\(r.stderr)")
}

/// Training into PostgreSQL needs a checkpoint folder (the store has none): one line, before any run is created.
@Test(.enabled(if: postgresTestStore("x") != nil))
func postgresTrainingNeedsACheckpointFolder() throws {
    let url = try #require(postgresTestStore("nockpt"))
    defer { dropPostgresTestStore(url) }
    let t = try tinyExperiment(steps: 100)
    let r = try runCLI(["train", t.experiment, "--store", url])
    #expect(r.status != 0 && r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(r.stderr.contains("a PostgreSQL store has no folder for checkpoints; name one with --checkpoints"))
    #expect(try RunStore(path: url).runs().isEmpty)
}

/// So does a sweep into PostgreSQL: one line before the sweep is recorded.
@Test(.enabled(if: postgresTestStore("x") != nil))
func postgresSweepNeedsACheckpointFolder() throws {
    let url = try #require(postgresTestStore("nockptsweep"))
    defer { dropPostgresTestStore(url) }
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]")
    let r = try runCLI(["sweep", t.experiment, "--store", url])
    #expect(r.status != 0 && r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(r.stderr.contains("a PostgreSQL store has no folder for checkpoints; name one with --checkpoints"))
    #expect(try RunStore(path: url).sweeps().isEmpty)
}
