import Foundation
import RunStore
import Testing

/// What became of a command sent a signal while its children trained.
struct Interruption {
    var status: Int32
    var killedBySignal: Bool
    /// The training processes (the owners of the store's runs) when the signal was sent.
    var children: [pid_t]
    var stderr: String
}

/// Runs `tradesim args…` (output into files in `dir`), sends `signal` to it alone once `runs` runs of `store` are
/// training (the rows' owners are its children) and have a checkpoint, and waits for it to end (killed after 60 s).
/// It starts with SIGINT, SIGTERM and SIGHUP unblocked, as from a shell, or `blocked`, as from a Dispatch thread.
func interrupt(
    _ args: [String], with signal: Int32, blocked: Bool = false, store: String, runs: Int, dir: String
) throws -> Interruption {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tradesimBinary)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: repoRoot)
    p.environment = ProcessInfo.processInfo.environment.merging(["OPENBLAS_NUM_THREADS": "1"]) { $1 }
    p.standardInput = FileHandle.nullDevice
    for file in ["out", "err"] { _ = FileManager.default.createFile(atPath: "\(dir)/\(file).txt", contents: nil) }
    p.standardOutput = FileHandle(forWritingAtPath: dir + "/out.txt")
    p.standardError = FileHandle(forWritingAtPath: dir + "/err.txt")
    // The command inherits this thread's signal mask.
    var signals = sigset_t()
    var mask = sigset_t()
    sigemptyset(&signals)
    for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
    pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &signals, &mask)
    defer { pthread_sigmask(SIG_SETMASK, &mask, nil) }
    try p.run()
    var children: [pid_t] = []
    var deadline = Date().addingTimeInterval(60)
    while children.count < runs && p.isRunning && Date() < deadline {
        usleep(20_000)
        guard let db = try? RunStore(path: store, create: false), let rows = try? db.runs(status: .running) else {
            continue
        }
        children = rows.filter { (try? db.checkpoints(runId: $0.id!).isEmpty) == false }.map { pid_t($0.ownerPid!) }
    }
    kill(p.processIdentifier, signal)
    deadline = Date().addingTimeInterval(60)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    return Interruption(
        status: p.terminationStatus, killedBySignal: p.terminationReason == .uncaughtSignal, children: children,
        stderr: try String(contentsOfFile: dir + "/err.txt", encoding: .utf8))
}

/// The processes of `pids` still running 3 s from now (or as soon as none is); those are then killed.
func survivors(_ pids: [pid_t]) -> [pid_t] {
    // A zombie (ended, not yet reaped) does not count.
    func running(_ pid: pid_t) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.isEmpty && stat.split(separator: ")").last?.split(separator: " ").first != "Z"
    }
    let deadline = Date().addingTimeInterval(3)
    while pids.contains(where: running) && Date() < deadline { usleep(20_000) }
    let left = pids.filter(running)
    for pid in left { kill(pid, SIGKILL) }
    return left
}

/// SIGINT to `tradesim sweep` (the pool, whose trial processes have process groups of their own, so the signal
/// reaches the pool alone, as a terminal's Ctrl-C does) is passed on to its trials: they stop, their runs read as
/// interrupted, the pool exits with 130 after one line saying how to continue, and `sweep --resume` finishes the sweep.
@Test func interruptedSweepStopsItsTrialsAndResumes() throws {
    let t = try sweepExperiment(grid: "    agent.learningRate: [1.0e-4, 1.0e-3]", seeds: "[1]", steps: 6_000)
    let r = try interrupt(["sweep", t.experiment, "--jobs", "2"], with: SIGINT, store: t.store, runs: 2, dir: t.dir)
    #expect(r.status == 130 && !r.killedBySignal, "\(r.status) \(r.stderr)")
    #expect(r.children.count == 2)
    #expect(survivors(r.children).isEmpty, "trial processes left running")
    let line = "interrupted: stopped 2 trials; continue with tradesim sweep sw --resume --store \(t.store)\n"
    #expect(r.stderr.hasSuffix(line), "\(r.stderr)")
    let store = try RunStore(path: t.store)
    let trials = try store.trials(sweepId: try store.sweep(named: "sw").id!)
    #expect(try trials.map { try store.run(id: $0.runId!).status } == [.interrupted, .interrupted])
    let resumed = try runCLI(["sweep", "sw", "--resume", "--store", t.store, "--jobs", "2"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try store.trials(sweepId: trials[0].sweepId).allSatisfy { $0.status == .finished })
    #expect(try store.runs().count == 2)
}

/// SIGTERM to `tradesim train --parallel` is passed on to the seeds' processes, even when the command was started with
/// it blocked (its children would inherit that): their runs read as interrupted, the command exits with 143 after one
/// line naming them, and a run resumes.
@Test func interruptedParallelTrainingStopsItsRuns() throws {
    let t = try checkpointingExperiment(steps: 4_000, algo: "dqn")
    let text = try String(contentsOfFile: t.experiment, encoding: .utf8)
    try text.replacingOccurrences(of: "seeds: [5]", with: "seeds: [1, 2]")
        .write(toFile: t.experiment, atomically: true, encoding: .utf8)
    let r = try interrupt(
        ["train", t.experiment, "--parallel"], with: SIGTERM, blocked: true, store: t.store, runs: 2, dir: t.dir)
    #expect(r.status == 143 && !r.killedBySignal, "\(r.status) \(r.stderr)")
    #expect(r.children.count == 2)
    #expect(survivors(r.children).isEmpty, "training processes left running")
    let runs = try RunStore(path: t.store).runs()
    #expect(runs.map(\.status) == [.interrupted, .interrupted])
    let names = runs.map(\.name).joined(separator: ", ")
    let line = "interrupted: stopped 2 runs (\(names)); continue each with tradesim train --resume RUN --store "
    #expect(r.stderr.hasSuffix(line + t.store + "\n"), "\(r.stderr)")
    let resumed = try runCLI(["train", "--resume", runs[0].name, "--store", t.store])
    #expect(resumed.status == 0, "\(resumed.stderr)")
}

/// SIGTERM to a one-process `tradesim train` ends it at once, as a killed process ends (its run interrupted, every
/// committed row kept), after one line naming the run and how to continue it; it exits with 143.
@Test func interruptedTrainingSaysHowToResume() throws {
    let t = try checkpointingExperiment(steps: 4_000, algo: "dqn")
    let r = try interrupt(["train", t.experiment], with: SIGTERM, store: t.store, runs: 1, dir: t.dir)
    #expect(r.status == 143 && !r.killedBySignal, "\(r.status) \(r.stderr)")
    let run = try #require(try RunStore(path: t.store).runs().first)
    #expect(run.status == .interrupted)
    let line =
        "interrupted: run \(run.name) stopped; continue it from its last checkpoint with tradesim train --resume "
        + "\(run.name) --store \(t.store)\n"
    #expect(r.stderr.hasSuffix(line), "\(r.stderr)")
}
