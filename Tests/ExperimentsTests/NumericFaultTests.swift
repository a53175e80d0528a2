import Foundation
import RunStore
import Testing

/// A tiny DQN experiment whose rewards overflow to ±∞ once scaled (`rewardScale: 1e300`), so the first update's loss
/// is not finite. Updates start at step 300, after the checkpoint at step 256.
func overflowingExperiment(nonFinite: String?) throws -> (dir: String, experiment: String, store: String) {
    let dir = try temporaryDirectory()
    let yaml =
        tinyDQNExperiment(learningStarts: 300, agent: ["bufferSize: 1000", "rewardScale: 1e300", "logInterval: 10"])
            + """
            seeds: [4]
            steps: 600
            checkpointEvery: 256
            evaluateOn: [validation]
            store: \(dir)/runs.sqlite
            checkpoints: \(dir)/checkpoints
            \(nonFinite.map { "nonFinite: \($0)" } ?? "")
            """
    try yaml.write(toFile: dir + "/nan.yaml", atomically: true, encoding: .utf8)
    return (dir, dir + "/nan.yaml", dir + "/runs.sqlite")
}

@Test func nonFiniteUpdateStopsTheRunAndKeepsTheLastCheckpoint() throws {
    let t = try overflowingExperiment(nonFinite: nil)
    let r = try runCLI(["train", t.experiment])
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    // 3-step returns add +∞ and −∞ rewards: the first update's loss is NaN.
    #expect(
        r.stderr.contains("non-finite update before training step 30") && r.stderr.contains("(loss nan, gradient norm"),
        "\(r.stderr)")
    #expect(r.stderr.contains("its last checkpoint (step 256) is intact"), "\(r.stderr)")
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    #expect(run.status == .failed && run.message?.contains("non-finite") == true)
    // Nothing was checkpointed or logged past the fault (updates start at 300; the next checkpoint would be 512).
    #expect(try store.checkpoints(runId: run.id!).allSatisfy { $0.globalStep == 256 })
    #expect(try store.episodes(runId: run.id!).allSatisfy { $0.globalStep <= 300 })
    #expect(try store.metrics(runId: run.id!, key: "losses/td").isEmpty)
    // The last good checkpoint still verifies and restores.
    let evaluated = try runCLI(["evaluate", "\(run.id!)", "--store", t.store])
    #expect(evaluated.status == 0, "\(evaluated.stderr)")
    #expect(evaluated.stdout.contains("checkpoint at step 256"))
}

@Test func nonFiniteUpdatesAreSkippedAndCountedWhenConfigured() throws {
    let t = try overflowingExperiment(nonFinite: "skip")
    let r = try runCLI(["train", t.experiment])
    #expect(r.status == 0, "\(r.stderr)")
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    #expect(run.status == .finished)
    let skipped = try store.metrics(runId: run.id!, key: "numeric/skippedUpdates").map(\.value).reduce(0, +)
    // One update every 4 steps from step 300 to 600 (both included); every batch holds an overflowing reward.
    #expect(skipped == 76, "\(skipped)")
    // The weights were never touched: the greedy policy still evaluates to finite equity.
    let equity = try #require(try store.metrics(runId: run.id!, key: "eval/validation/finalEquity").last).value
    #expect(equity.isFinite && equity > 0)
}
