import Foundation
import GRDB
import Testing

@testable import RunStore

/// `steps_view` and `episodes_view`: one row per stored step / episode with its run's name and ISO dates, readable
/// with `trusted_schema = OFF` (the store's setting), matching what the store API returns.
@Test(arguments: Backend.all) func viewsJoinRunNamesAndISODates(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let store = try RunStore(path: stores.path("views.sqlite"))
    let run = try makeRun(store, seed: 7)
    let midnight: Int64 = 1_293_840_000  // 2011-01-01 00:00:00 UTC
    let steps = [
        StepRecord(
            barIndex: 3, timestamp: midnight, action: 2, position: 1, fillPrice: 100, reward: 0.01,
            equity: 101, cost: 0.5),
        StepRecord(
            barIndex: 4, timestamp: midnight + 13 * 3_600, action: 0, position: -1, positionsJSON: "[0.5,0.5]",
            fillPrice: 99, reward: -0.02, equity: 99, cost: 0.25),
    ]
    let episode = EpisodeRecord(
        runId: run.id!, split: .validation, index: 4, firstTimestamp: midnight,
        lastTimestamp: midnight + 13 * 3_600, steps: 2, totalReward: -0.01, finalEquity: 99,
        costs: 0.75, globalStep: 500, actionsHash: "h")
    try store.writeEpisode(episode, steps: steps)

    let rows = try fetchRows(store, "SELECT * FROM steps_view ORDER BY bar")
    #expect(rows.count == 2)
    #expect(rows.map { $0["run"] as String } == [run.name, run.name])
    #expect(rows.map { $0["date"] as String } == ["2011-01-01", "2011-01-01 13:00:00"])
    #expect(
        rows.map { $0["episode"] as Int64 } == [4, 4]
            && rows.map { $0["split"] as String } == ["validation", "validation"])
    #expect(rows.map { $0["action"] as Double } == [2, 0] && rows.map { $0["equity"] as Double } == [101, 99])
    #expect(rows.map { $0["positions"] as String } == ["", "[0.5,0.5]"] && rows[1]["seed"] as Int64 == 7)

    let e = try #require(try fetchRows(store, "SELECT * FROM episodes_view").first)
    #expect(e["run"] as String == run.name && e["episode"] as Int64 == 4 && e["trainingStep"] as Int64 == 500)
    #expect(e["firstDate"] as String == "2011-01-01" && e["lastDate"] as String == "2011-01-01 13:00:00")
    #expect(e["finalEquity"] as Double == 99 && e["steps"] as Int64 == 2)
}
