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
    ("POSTGRESQL://ann:s3cret@127.0.0.1:1/runs", "ann@127.0.0.1:1/runs: cannot connect to 127.0.0.1:1"),
    ("postgresql:/ann:s3cret@127.0.0.1:1/runs", "postgresql:/ann@127.0.0.1:1/runs: not a PostgreSQL URL"),
    ("ann:s3cret@127.0.0.1:1/runs", "ann@127.0.0.1:1/runs: not a PostgreSQL URL"),
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

/// Training into such a URL is the same line before anything is written: no SQLite file named after the URL (and its
/// password) appears.
@Test(arguments: ["POSTGRESQL://ann:s3cret@127.0.0.1:1/runs", "postgresql:/ann:s3cret@127.0.0.1:1/runs"])
func trainingIntoAMisspeltURLCreatesNoFile(_ url: String) throws {
    let dir = try temporaryDirectory()
    let r = try runCLI(
        [
            "train", "--env", repoRoot + "/environments/sp500-daily.yaml", "--agent",
            repoRoot + "/agents/dqn-lstm.yaml", "--steps", "10", "--store", url,
        ], in: dir)
    #expect(r.failsWithOneErrorLine && r.stderr.contains("ann@127.0.0.1:1/runs: "), "\(r.stderr)")
    #expect(!r.stderr.contains("s3cret") && !r.stdout.contains("s3cret"), "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
}

/// A store URL given where the command takes no argument is echoed by the argument parser's error without its
/// password.
@Test func aMisplacedURLIsEchoedWithoutItsPassword() throws {
    let r = try runCLI(["runs", "postgresql://me:S3cret@127.0.0.1:1/db"])
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(r.stderr.contains("'postgresql://me@127.0.0.1:1/db'") && !r.stderr.contains("S3cret"), "\(r.stderr)")
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

/// An experiment (or pretrain) file is recorded with every run, so a password in its `store:` URL is refused, in one
/// line without it, before any store is opened.
@Test func experimentFileWithAPasswordInItsStoreIsRefused() throws {
    for url in [
        "postgresql://ann:s3cret@127.0.0.1:1/runs", "postgresql://ann@127.0.0.1:1/runs?password=s3cret",
        "POSTGRESQL://ann:s3cret@127.0.0.1:1/runs", "postgresql:/ann:s3cret@127.0.0.1:1/runs",
    ] {
        let t = try useStore(url, in: try tinyExperiment(steps: 100))
        let pretrain = t.dir + "/pretrain.yaml"
        try String(contentsOfFile: repoRoot + "/experiments/sp500-pretrain.yaml", encoding: .utf8)
            .replacingOccurrences(of: "../environments/", with: repoRoot + "/environments/")
            .replacingOccurrences(of: "store: runs/tradesim.sqlite", with: "store: \(url)")
            .write(toFile: pretrain, atomically: true, encoding: .utf8)
        for command in [["train", t.experiment], ["sweep", t.experiment], ["pretrain", pretrain]] {
            let r = try runCLI(command)
            #expect(r.failsWithOneErrorLine, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("\(command[1]): key 'store': its URL holds a password"), "\(r.stderr)")
            #expect(!r.stderr.contains("s3cret") && !r.stdout.contains("s3cret"), "\(r.stderr)")
        }
    }
}

/// A password given in the `--store` URL (the CLI's own PGPASSWORD and ~/.pgpass emptied) reaches the server and the
/// sweep's trial processes, but no stored row, no command line and no other server: copying to a store whose URL has
/// none fails there.
@Test(.enabled(if: postgresTestStore("x") != nil && ProcessInfo.processInfo.environment["PGPASSWORD"] != nil))
func passwordInTheStoreURLIsUsedButNeverStoredOrPassedOn() throws {
    let password = try #require(ProcessInfo.processInfo.environment["PGPASSWORD"])
    let url = try #require(postgresTestStore("urlpw")), other = try #require(postgresTestStore("urlpw2"))
    defer { dropPostgresTestStore(url) }
    defer { dropPostgresTestStore(other) }
    let noPassword = ["PGPASSWORD": "", "PGPASSFILE": "/nonexistent"]
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]", steps: 100)
    let inUserInfo = url.replacingOccurrences(of: "@", with: ":\(password)@"), inQuery = url + "&password=\(password)"
    let swept = try runCLI(
        ["sweep", t.experiment, "--checkpoints", t.dir + "/ckpt", "--store", inUserInfo], in: t.dir,
        environment: noPassword)
    #expect(swept.status == 0, "\(swept.stderr)")
    #expect(!swept.stdout.contains(":\(password)@"), "\(swept.stdout)")
    let adHoc = [
        "train", "--env", repoRoot + "/environments/sp500-daily.yaml", "--agent", repoRoot + "/agents/dqn-lstm.yaml",
        "--steps", "10", "--checkpoints", t.dir + "/ckpt2", "--store", inQuery,
    ]
    let trained = try runCLI(adHoc, environment: noPassword)
    #expect(trained.status == 0, "\(trained.stderr)")
    let store = try RunStore(path: url)
    let trials = try store.trials(sweepId: try store.sweep(named: "sw").id!)
    #expect(trials.map(\.status) == [.finished])
    let runs = try store.runs()
    #expect(runs.count == 2)
    for run in runs {
        for text in [run.experimentYAML, run.configJSON] {
            #expect(!text.contains(":\(password)@") && !text.contains("password="), "\(text)")
        }
    }
    let removed = try runCLI(
        ["runs", "rm", "--status", "failed", "--yes", "--store", inQuery], environment: noPassword)
    #expect(removed.status == 0 && removed.stdout.contains("nothing to delete"), "\(removed.stderr)")
    #expect(!removed.stdout.contains("password="), "\(removed.stdout)")
    let copy = try runCLI(["store", "copy", inUserInfo, other], environment: noPassword)
    #expect(copy.failsWithOneErrorLine && copy.stderr.contains(RunStore.shown(other)), "\(copy.stderr)")
}
