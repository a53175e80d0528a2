import Foundation
import Testing

@testable import Experiments
@testable import RunStore

/// The portfolio experiment end to end through the CLI, shrunk: PPO with softmax weights over the 20-stock panel (the
/// encoder switched to `kind`), trained a few updates, evaluated on validation next to the panel baselines.
@Test(arguments: ["cnn", "mlp"])
func portfolioExperimentTrainsOnThePanel(kind: String) throws {
    let dir = try temporaryDirectory()
    let yaml = """
        environment: \(repoRoot)/environments/us-stocks-daily.yaml
        agent: \(repoRoot)/agents/ppo-portfolio.yaml
        seeds: [2]
        steps: 192
        evaluateOn: [validation]
        store: \(dir)/runs.sqlite
        checkpoints: \(dir)/checkpoints
        overrides:
          environment:
            market: {window: 8, episode: {length: 40}}
          agent:
            encoder: {kind: \(kind), embedding: 8, hidden: 8}
            numEnvs: 2
            nSteps: 32
            minibatchSize: 32
            epochs: 1
        """
    try yaml.write(toFile: dir + "/portfolio.yaml", atomically: true, encoding: .utf8)
    let r = try runCLI(["train", dir + "/portfolio.yaml"])
    #expect(r.status == 0, "\(r.stderr)")
    for name in ["equalWeight", "minimumVariance", "buyAndHold", "momentum"] {
        #expect(r.stdout.contains(name), "\(name) row")
    }
    let store = try RunStore(path: dir + "/runs.sqlite")
    let run = try #require(try store.runs().first)
    #expect(run.status == .finished)
    #expect(run.configJSON.contains("\"kind\":\"\(kind)\"") && run.configJSON.contains("\"squash\":\"softmax\""))
    let validation = try #require(try store.episodes(runId: run.id!, split: .validation).last)
    let steps = try store.steps(episodeId: validation.id!)
    #expect(steps.count > 400)  // 2009–2010, whole split
    // softmax weights sum to 1 and the cap is 1: every step's 20 weights are long and sum to about 1 (the close
    // marks them a little off the target filled at the open)
    for step in steps {
        let w = try #require(try JSONSerialization.jsonObject(with: Data(step.positionsJSON.utf8)) as? [Double])
        #expect(w.count == 20 && w.allSatisfy { $0 >= 0 } && abs(w.reduce(0, +) - 1) < 0.05, "\(w)")
    }
    // `replay` sums each step's weights and names the largest with its ticker
    let replay = try runCLI(["replay", "\(run.id!)", "--limit", "2", "--store", dir + "/runs.sqlite"])
    #expect(replay.status == 0, "\(replay.stderr)")
    let lines = replay.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    #expect(lines[1] == ["bar", "date", "net", "gross", "largest", "cost", "reward", "equity"], "\(replay.stdout)")
    let w = try #require(try JSONSerialization.jsonObject(with: Data(steps[0].positionsJSON.utf8)) as? [Double])
    let top = w.indices.max { w[$0] < w[$1] }!
    let tickers = try MarketSetup(path: repoRoot + "/environments/us-stocks-daily.yaml").dataset.panel.tickers
    #expect(
        lines[3] == [
            "\(steps[0].barIndex)", String(lines[3][1]), String(format: "%.4f", w.reduce(0, +)),
            String(format: "%.4f", w.reduce(0) { $0 + abs($1) }), tickers[top], String(format: "%.4f", w[top]),
            String(format: "%.4f", steps[0].cost), String(format: "%.6f", steps[0].reward),
            String(format: "%.2f", steps[0].equity),
        ], "\(lines[3])")
    // `replay --verify` compares every weight: one moved by one unit in the last place is named by its ticker.
    let verified = try runCLI(["replay", "\(run.id!)", "--verify", "--store", dir + "/runs.sqlite"])
    #expect(verified.status == 0 && verified.stdout.contains("verified \(steps.count) steps"), "\(verified.stderr)")
    var moved = steps[0].positionsJSON.trimmingCharacters(in: ["[", "]"]).split(separator: ",").map { Double($0)! }
    moved[top] = moved[top].nextUp
    try store.pool.write { db in
        try db.execute(
            sql: "UPDATE step SET positionsJSON = ? WHERE episodeId = ? AND barIndex = ?",
            arguments: ["[" + moved.map { "\($0)" }.joined(separator: ",") + "]", validation.id!, steps[0].barIndex])
    }
    let bad = try runCLI(["replay", "\(run.id!)", "--verify", "--store", dir + "/runs.sqlite"])
    #expect(bad.status != 0 && bad.stderrLines.count == 1, "\(bad.stderr)")
    #expect(
        bad.stderr.contains("stored weight of \(tickers[top]) at bar \(steps[0].barIndex)")
            && bad.stderr.contains("is \(moved[top]) but the re-run"), "\(bad.stderr)")
}

@Test func unknownEncoderKindIsOneErrorLine() throws {
    let dir = try temporaryDirectory()
    let agent = try String(contentsOfFile: repoRoot + "/agents/ppo-portfolio.yaml", encoding: .utf8)
        .replacingOccurrences(of: "kind: lstm", with: "kind: gru")
    try agent.write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
    let r = try runCLI([
        "train", "--env", "environments/us-stocks-daily.yaml", "--agent", dir + "/bad.yaml", "--steps", "10",
        "--store", dir + "/runs.sqlite",
    ])
    #expect(r.status != 0 && r.stderrLines.count == 1)
    #expect(r.stderr.contains("bad.yaml") && r.stderr.contains("kind"), "\(r.stderr)")
}
