import Foundation
import RunStore

/// Measures step-row inserts through the public store API: creates a new store at `path` (a SQLite file, or a
/// PostgreSQL URL whose schema holds no store yet), one run, then writes `episodes` episodes of `stepsPerEpisode` steps
/// each with `writeEpisode` (one transaction per episode).
/// Only the `writeEpisode` calls are timed; the synthetic steps are built beforehand.
/// - Returns: the step rows inserted and the seconds they took; `rows / seconds` is the insert rate.
/// - Throws: `RunStoreError` if `path` already exists (the benchmark never touches an existing store) or a write fails.
public func benchmarkStepInserts(path: String, episodes: Int, stepsPerEpisode: Int) throws -> (
    rows: Int, seconds: Double
) {
    let exists =
        RunStore.isURL(path)
        ? (try? RunStore(path: path, create: false)) != nil
        : FileManager.default.fileExists(atPath: path)
    if exists {
        throw RunStoreError(path: path, reason: "already exists; the benchmark writes a new store")
    }
    let store = try RunStore(path: path)
    let run = try store.createRun(
        experiment: "bench", agent: "none", seed: 0, experimentYAML: "", configJSON: "{}",
        configHash: "", codeVersion: "bench")
    let steps = (0..<stepsPerEpisode).map { i in
        let x = Double(i)
        return StepRecord(
            barIndex: Int64(i), timestamp: 1_600_000_000 + Int64(i) * 86_400, action: Double(i % 3),
            position: Double(i % 3) - 1, fillPrice: 100 + x.squareRoot(), reward: 0.001 * sin(x),
            equity: 10_000 + x, cost: i % 7 == 0 ? 0.5 : 0)
    }
    let start = DispatchTime.now().uptimeNanoseconds
    for e in 0..<episodes {
        let episode = EpisodeRecord(
            runId: run.id!, split: .train, index: Int64(e), firstTimestamp: 1_600_000_000,
            lastTimestamp: 1_600_000_000 + Int64(stepsPerEpisode) * 86_400,
            steps: Int64(stepsPerEpisode), totalReward: 0, finalEquity: 10_000, costs: 0,
            globalStep: Int64((e + 1) * stepsPerEpisode), actionsHash: "")
        try store.writeEpisode(episode, steps: steps)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return (episodes * stepsPerEpisode, seconds)
}
