import Foundation

/// The repository root (tests run the CLI from there, as the README does).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The `tradesim` executable built next to the test bundle.
let tradesimBinary: String = {
    var dir = Bundle.main.bundleURL
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("tradesim").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return repoRoot + "/.build/debug/tradesim"
}()

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Ended by a signal (a crash or a kill) rather than an exit.
    var killedBySignal = false
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
    /// The error lines on stderr (progress lines aside): a failure must give exactly one, and it must come last.
    var errorLines: [Substring] { stderrLines.filter { $0.hasPrefix("error: ") } }
    var failsWithOneErrorLine: Bool { status != 0 && errorLines.count == 1 && stderrLines.last == errorLines.first }
}

/// Runs `tradesim args…` (or `executable args…`) in `directory` (default the repository root) and collects its output;
/// with `output`, its standard output goes to that file instead (and `stdout` is empty).
func runCLI(
    _ args: [String], in directory: String = repoRoot, environment: [String: String] = [:], output: String? = nil,
    executable: String = tradesimBinary
) throws -> CLIResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ProcessInfo.processInfo.environment
    env["OPENBLAS_NUM_THREADS"] = "1"
    env.merge(environment) { $1 }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardInput = FileHandle.nullDevice  // never a terminal, as in CI, even when the tests run from one
    p.standardOutput = try output.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? out
    p.standardError = err
    try p.run()
    if output != nil { try out.fileHandleForWriting.close() }
    // read before waiting so a large output cannot fill the pipe and block the child
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CLIResult(
        status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
        stderr: String(decoding: e, as: UTF8.self),
        killedBySignal: p.terminationReason == .uncaughtSignal)
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradesim-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}

/// The first lines of the tests' tiny DQN experiments: the S&P 500 environment and the DQN agent, shrunk under
/// `overrides` (window 8, 60-bar episodes, an 8-unit encoder, batches of 16, learning from step `learningStarts`), with
/// `agent` (YAML lines) added to the agent's overrides. The experiment's other keys follow.
func tinyDQNExperiment(learningStarts: Int = 100, agent: [String] = []) -> String {
    """
    environment: \(repoRoot)/environments/sp500-daily.yaml
    agent: \(repoRoot)/agents/dqn-lstm.yaml
    overrides:
      environment:
        market: {window: 8, episode: {length: 60}}
      agent:
        encoder: {embedding: 8, hidden: 8}
        learningStarts: \(learningStarts)
        batchSize: 16

    """ + agent.map { "    \($0)\n" }.joined()
}
