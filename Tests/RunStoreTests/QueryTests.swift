import Testing

@testable import RunStore

/// The queries behind `tradesim compare`: the runs evaluated on some splits (the Deflated Sharpe Ratio's trials) and
/// the value each logged last.
@Test(arguments: Backend.all) func runsEvaluatedOnSplitsAndTheirLastMetric(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let store = try RunStore(path: stores.path("runs.sqlite"))
    func run(_ name: String, splits: [EpisodeSplit], sharpe: Double? = nil) throws -> Int64 {
        let r = try makeRun(store, experiment: name)
        for (i, s) in splits.enumerated() {
            var episode = makeEpisode(runId: r.id!, split: s, steps: 0)
            episode.globalStep = Int64(i)
            _ = try store.writeEpisode(episode, steps: [])
        }
        if let sharpe {
            // Logged out of step order: the last value is the one at the highest step, not the last row.
            let key = "eval/validation/sharpe"
            try store.appendMetrics([
                MetricRecord(runId: r.id!, globalStep: 20, key: key, value: sharpe),
                MetricRecord(runId: r.id!, globalStep: 10, key: key, value: 99),
            ])
        }
        return r.id!
    }
    let a = try run("a", splits: [.train, .validation])
    let b = try run("b", splits: [.validation, .validation], sharpe: 0.8)
    let c = try run("c", splits: [.train, .test])
    _ = try run("d", splits: [])
    #expect(try store.runsEvaluated(on: [.validation]).map(\.id) == [a, b])
    #expect(try store.runsEvaluated(on: [.validation, .test]).map(\.id) == [a, b, c])
    #expect(try store.runsEvaluated(on: []).isEmpty)
    #expect(try store.lastMetric("eval/validation/sharpe", runIds: [a, b]) == [b: 0.8])
    #expect(try store.lastMetric("eval/test/sharpe", runIds: [a, b, c]).isEmpty)
}
