import Foundation
import Testing

@testable import RunStore

/// An output (`--out`, `--report`) that is the run store or one of its `-wal`, `-shm`, `-journal` files, or a file the
/// command reads (the environment's data, the configs), under any spelling or through a link, is refused in one line
/// before any work: the store, the data and the configs are left as they were, and training creates no run.
@Test func outputOntoTheStoreOrTheInputsIsRefused() throws {
    let dir = try temporaryDirectory()
    let train = try csvCase(dir) { _ in }  // the S&P 500 file copied to DIR/bad.csv, DIR/env.yaml reading it
    let store = dir + "/runs.sqlite", data = dir + "/bad.csv", env = dir + "/env.yaml"
    let trained = try runCLI(train)
    #expect(trained.status == 0, "\(trained.stderr)")
    _ = try RunStore(path: store).createSweep(
        SweepRecord(name: "sw", experimentPath: env, experimentYAML: "", definitionYAML: "", launcher: "local"),
        trials: [])
    try FileManager.default.createSymbolicLink(atPath: dir + "/link.sqlite", withDestinationPath: store)
    // An experiment file named as the ad-hoc run's experiment (`compare --experiment` reads it, and its agent file).
    let experiment = dir + "/adhoc-dqn-lstm.yaml", agent = dir + "/agent.yaml"
    try FileManager.default.copyItem(atPath: repoRoot + "/agents/dqn-lstm.yaml", toPath: agent)
    try "environment: env.yaml\nagent: agent.yaml\nsteps: 10\n".write(
        toFile: experiment, atomically: true, encoding: .utf8)
    let inputs = [data, env, experiment, agent]
    let before = try StoreSnapshot(store)
    let bytes = try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    let onStore = "that is the run store; write the output elsewhere"
    let onData = "the command reads that file (\(data)); write the output elsewhere"
    let cases: [(arguments: [String], error: String)] = [
        (["export", "1", "--store", store, "--out", store], "--out \(store): \(onStore)"),
        (["export", "1", "--store", store, "--out", dir + "/./runs.sqlite"], "--out \(dir)/./runs.sqlite: \(onStore)"),
        (["export", "1", "--store", store, "--out", dir + "/link.sqlite"], "--out \(dir)/link.sqlite: \(onStore)"),
        (["export", "1", "--store", store, "--out", store + "-journal"], "--out \(store)-journal: \(onStore)"),
        (["compare", "1", "--store", dir + "/link.sqlite", "--out", store + "-wal"], "--out \(store)-wal: \(onStore)"),
        (["report", "1", "--store", store, "--out", store], "--out \(store): \(onStore)"),
        (["sweep", "results", "sw", "--store", store, "--out", store], "--out \(store): \(onStore)"),
        (["sweep", "results", "sw", "--store", store, "--report", store], "--report \(store): \(onStore)"),
        (train + ["--report", store], "--report \(store): \(onStore)"),
        (["train", "--resume", "1", "--store", store, "--report", store], "--report \(store): \(onStore)"),
        (["compare", "1", "--store", store, "--out", data], "--out \(data): \(onData)"),
        (["compare", "1", "--store", store, "--out", env], "--out \(env): the command reads that file (\(env))"),
        (["export", "1", "--store", store, "--out", data], "--out \(data): \(onData)"),
        (["export", "1", "--store", store, "--out", env], "--out \(env): the command reads that file (\(env))"),
        (
            ["compare", "--experiment", experiment, "--store", store, "--out", experiment],
            "--out \(experiment): the command reads that file ("
        ),
        (
            ["report", "--experiment", experiment, "--store", store, "--out", agent],
            "--out \(agent): the command reads that file ("
        ),
        (["sweep", "results", "sw", "--store", store, "--out", env], "--out \(env): the command reads that file"),
        (["report", "1", "--store", store, "--out", data], "--out \(data): \(onData)"),
        (train + ["--report", data], "--report \(data): \(onData)"),
        (train + ["--report", env], "--report \(env): the command reads that file (\(env))"),
        (["features", env, "--out", data], "--out \(data): \(onData)"),
        (["features", env, "--out", dir + "/../" + (dir as NSString).lastPathComponent + "/bad.csv"], onData),
    ]
    for c in cases {
        let r = try runCLI(c.arguments)
        #expect(r.failsWithOneErrorLine && r.stderr.contains(c.error), "\(c.arguments): \(r.stderr)")
    }
    #expect(try StoreSnapshot(store) == before)
    #expect(try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == bytes)
}

/// A device that fails every write with ENOSPC (Linux's `/dev/full`, made in `dir` when this process may), or nil.
func fullDevice(in dir: String) -> String? {
    #if os(Linux)
        let path = dir + "/full"
        if mknod(path, S_IFCHR | 0o666, 1 << 8 | 7) == 0 { return path }  // makedev(1, 7), as /dev/full
        var info = stat()
        return stat("/dev/full", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR ? "/dev/full" : nil
    #else
        return nil
    #endif
}

/// A failed write of any output, a file (`--out`) or standard output, is one line naming it with the system's reason
/// and a non-zero exit; the output stays what it was (a device is not replaced by a regular file), and `report` does
/// not say it wrote the page.
@Test func failedWritesAreOneErrorLine() throws {
    let dir = try temporaryDirectory()
    let full = try #require(fullDevice(in: dir), "no /dev/full")
    let (id, _) = try trainedRun(dir)
    let store = ["--store", dir + "/runs.sqlite"], env = repoRoot + "/environments/sp500-daily.yaml"
    let toFile = [
        ["export", "\(id)", "--out", full] + store, ["compare", "\(id)", "--out", full] + store,
        ["report", "\(id)", "--out", full] + store, ["features", env, "--out", full],
    ]
    let toStandardOutput = [
        ["export", "\(id)"] + store, ["compare", "\(id)"] + store, ["runs"] + store, ["replay", "\(id)"] + store,
        ["features", env],
    ]
    for (commands, output, error) in [(toFile, nil, "--out \(full): "), (toStandardOutput, full, "standard output: ")] {
        for command in commands {
            let r = try runCLI(command, output: output)
            #expect(r.failsWithOneErrorLine && r.stdout.isEmpty, "\(command): \(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains(error + String(cString: strerror(ENOSPC))), "\(command): \(r.stderr)")
            var info = stat()
            #expect(stat(full, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "\(command) replaced \(full)")
        }
    }
}

/// A regular file given as an output is replaced whole: when the command succeeds, with the new contents (the file keeps
/// its permissions, a symbolic link to it stays a link); when a write fails, the file is left as it was. Either way no
/// file of the command's is left beside it.
@Test func outputFilesAreReplacedWhole() throws {
    let dir = try temporaryDirectory()
    let file = dir + "/features.csv", link = dir + "/link.csv"
    try "old\n".write(toFile: file, atomically: false, encoding: .utf8)
    #expect(chmod(file, 0o640) == 0)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
    let features = ["features", repoRoot + "/environments/sp500-daily.yaml", "--out", link]
    // A file-size limit of 4 KB, its signal ignored, makes the writes past it fail with EFBIG (the output has 360 KB).
    let limited = "trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\""
    let failed = try runCLI(["-c", limited, tradesimBinary] + features, executable: "/bin/sh")
    #expect(failed.failsWithOneErrorLine, "\(failed.stderr)")
    #expect(failed.stderr.contains("--out \(link): \(String(cString: strerror(EFBIG)))"), "\(failed.stderr)")
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "old\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["features.csv", "link.csv"])

    let written = try runCLI(features)
    #expect(written.status == 0, "\(written.stderr)")
    let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
    #expect(lines.first?.hasPrefix("date,split,") == true && lines.count > 1000)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == file)
    var info = stat()
    #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o640)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["features.csv", "link.csv"])
}
