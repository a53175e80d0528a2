import Foundation
import GRDB
import MarketData
import Testing

@testable import RunStore

/// `tradesim replay`: a page of a stored episode with values that match the store and the data file, and `--verify`,
/// which passes on a fresh run and fails with one line naming the value once a stored action, reward, trade price or
/// total is altered (the last three by one unit in the last place).
@Test func replayShowsStoredBarsAndVerifiesThem() throws {
    let t = try tinyExperiment(steps: 300)
    try (try String(contentsOfFile: t.experiment, encoding: .utf8) + "\ncheckpoints: \(t.dir)/checkpoints\n")
        .write(toFile: t.experiment, atomically: true, encoding: .utf8)
    #expect(try runCLI(["train", t.experiment]).status == 0)
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    let episode = try #require(try store.episodes(runId: run.id!, split: .validation).last)
    let stored = try store.steps(episodeId: episode.id!)

    let r = try runCLI([
        "replay", "\(run.id!)", "--split", "validation", "--from", "5", "--limit", "3", "--store", t.store,
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    #expect(lines[0].hasPrefix("\(run.name) validation #1: \(episode.steps) steps"))
    #expect(
        lines[1].split(separator: " ").map(String.init) == [
            "bar", "date", "price", "sp500_1999_2018_arch", "action", "position",
            "fill", "cost", "reward", "equity",
        ])
    let rows = lines[3..<6].map { $0.split(separator: " ").map(String.init) }
    // The S&P 500 file's close by date (M/D/YYYY in the file), to check the price column independently of the loader.
    let csv = try String(contentsOfFile: repoRoot + "/data/sp500_1999_2018_arch.csv", encoding: .utf8).components(
        separatedBy: "\r\n"
    ).dropFirst().filter { !$0.isEmpty }
    var closeByDate: [String: Double] = [:]
    for line in csv {
        let f = line.split(separator: ",")
        let mdy = f[0].split(separator: "/").map { Int($0)! }
        closeByDate[String(format: "%04d-%02d-%02d", mdy[2], mdy[0], mdy[1])] = Double(f[4])!
    }
    for (k, row) in rows.enumerated() {
        let s = stored[5 + k]
        #expect(row[0] == "\(s.barIndex)")
        #expect(abs(Double(row[2])! - closeByDate[row[1]]!) < 5e-5, "\(row)")
        #expect(
            Double(row[3]) == s.action && abs(Double(row[4])! - s.position) < 1e-4
                && abs(Double(row[5])! - s.fillPrice) < 1e-4)
        #expect(
            abs(Double(row[6])! - s.cost) < 1e-4 && abs(Double(row[7])! - s.reward) < 1e-6
                && abs(Double(row[8])! - s.equity) < 0.005)
    }
    #expect(lines[6] == "rows 5…7 of \(stored.count) stored; next page: --from 8")

    let ok = try runCLI(["replay", "\(run.id!)", "--verify", "--store", t.store])
    #expect(ok.status == 0, "\(ok.stderr)")
    let trades = try store.trades(episodeId: episode.id!)
    #expect(
        ok.stdout.contains(
            "verified \(episode.steps) steps (actions, positions, fills, costs, rewards, equity), \(trades.count) trades "
                + "and the episode's totals against the step-300 checkpoint"), "\(ok.stdout)")
    // The episode evaluated at step 150 has no checkpoint to re-run.
    let early = try runCLI(["replay", "\(run.id!)", "--episode", "0", "--verify", "--store", t.store])
    #expect(
        early.status != 0 && early.stderrLines.count == 1 && early.stderr.contains("no checkpoint at step 150"),
        "\(early.stderr)")

    // Alter one stored action: verification names the bar.
    let altered = stored[10]
    try store.pool.write { db in
        try db.execute(
            sql: "UPDATE step SET action = ? WHERE episodeId = ? AND barIndex = ?",
            arguments: [altered.action == 0 ? 2.0 : 0.0, episode.id!, altered.barIndex])
    }
    let bad = try runCLI(["replay", "\(run.id!)", "--verify", "--store", t.store])
    #expect(bad.status != 0)
    #expect(bad.stderrLines.count == 1, "\(bad.stderr)")
    #expect(bad.stderr.contains("stored action at bar \(altered.barIndex)"), "\(bad.stderr)")

    try store.pool.write { db in
        try db.execute(
            sql: "UPDATE step SET action = ? WHERE episodeId = ? AND barIndex = ?",
            arguments: [altered.action, episode.id!, altered.barIndex])
    }
    #expect(try runCLI(["replay", "\(run.id!)", "--verify", "--store", t.store]).status == 0)

    /// Runs `sql` with `moved` in place of `original`, expects verification to fail with one line containing
    /// `message`, then puts `original` back.
    func expectMismatch(_ sql: String, _ moved: Double, _ original: Double, id: Int64, _ message: String) throws {
        try store.pool.write { db in try db.execute(sql: sql, arguments: [moved, id]) }
        let r = try runCLI(["replay", "\(run.id!)", "--verify", "--store", t.store])
        #expect(r.status != 0 && r.stderrLines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        try store.pool.write { db in try db.execute(sql: sql, arguments: [original, id]) }
    }
    let s = stored[12]
    let date = DateParser.format(s.timestamp)
    try expectMismatch(
        "UPDATE step SET reward = ? WHERE episodeId = \(episode.id!) AND barIndex = ?", s.reward.nextUp, s.reward,
        id: s.barIndex,
        "stored reward at bar \(s.barIndex) (\(date)) is \(s.reward.nextUp) but the re-run from the step-300 "
            + "checkpoint gives \(s.reward)")
    let trade = try #require(trades.first, "the validation episode trades at least once")
    try expectMismatch(
        "UPDATE trade SET price = ? WHERE id = ?", trade.price.nextDown, trade.price, id: trade.id!,
        "stored trade 0 (bar \(trade.barIndex), \(trade.asset)): its price is \(trade.price.nextDown) but the re-run")
    try expectMismatch(
        "UPDATE episode SET finalEquity = ? WHERE id = ?", episode.finalEquity.nextUp, episode.finalEquity,
        id: episode.id!, "the stored episode's final equity is \(episode.finalEquity.nextUp) but the re-run")
    #expect(try runCLI(["replay", "\(run.id!)", "--verify", "--store", t.store]).status == 0)
}
