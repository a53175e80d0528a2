import Foundation
import MarketData
import RunStore

/// One stored episode of a run, bar by bar (`tradesim replay`): a page of its step rows with the close of the first
/// asset at each bar, and `verify`, which re-runs the policy from the checkpoint the episode was written at and
/// checks every stored value of the episode against the re-run.
public struct EpisodeReplay {
    public let store: RunStore
    public let run: RunRecord
    public let episode: EpisodeRecord
    let config: ResolvedConfig

    /// The episode `index` of `split` of the run (nil: the split's last episode).
    public init(_ reference: String, split: EpisodeSplit, index: Int?, store: RunStore) throws {
        self.store = store
        run = try store.run(reference: reference)
        let episodes = try store.episodes(runId: run.id!, split: split)
        guard !episodes.isEmpty else {
            throw RunStateError("\(store.path): run \(run.name) has no \(split.rawValue) episode")
        }
        if let index {
            guard let e = episodes.first(where: { $0.index == Int64(index) }) else {
                throw RunStateError(
                    "\(store.path): run \(run.name) has no \(split.rawValue) episode \(index) (episodes "
                        + "0…\(episodes.count - 1))"
                )
            }
            episode = e
        } else {
            episode = episodes.last!
        }
        config = try storedConfig(of: run, store: store)
    }

    /// `validation #3`.
    public var title: String { "\(episode.split.rawValue) #\(episode.index)" }

    /// Stored rows `from ..< from + limit` as a table and the number of stored rows. One asset: bar, date, price (its
    /// close; the ticker is in the header), action, position, fill, cost, reward, equity. A panel: bar, date, its
    /// weights summed (`net`), in absolute value (`gross`), the largest in absolute value with its ticker, then cost,
    /// reward and equity (every weight is in `export --what steps`; n/a in training steps, which keep none).
    public func page(from: Int, limit: Int) throws -> (table: TextTable, total: Int) {
        let setup = try config.setup()
        let panel = setup.dataset.panel
        let (steps, total) = try store.steps(episodeId: episode.id!, offset: from, limit: limit)
        let isPanel = panel.assetCount > 1
        var table = TextTable(
            header: ["bar", "date"]
                + (isPanel
                    ? ["net", "gross", "largest"]
                    : ["price \(panel.tickers[0])", "action", "position", "fill"]) + ["cost", "reward", "equity"])
        for s in steps {
            let bar = Int(s.barIndex)
            var row = ["\(bar)", DateParser.format(s.timestamp)]
            if isPanel {
                let weights = (try? JSONDecoder().decode([Double].self, from: Data(s.positionsJSON.utf8))) ?? []
                if let top = weights.indices.max(by: { abs(weights[$0]) < abs(weights[$1]) }) {
                    let ticker = top < panel.tickers.count ? panel.tickers[top] : "#\(top)"
                    row += [
                        fixed(weights.reduce(0, +), 4), fixed(weights.reduce(0) { $0 + abs($1) }, 4),
                        "\(ticker) \(fixed(weights[top], 4))",
                    ]
                } else {
                    row += ["n/a", "n/a", "n/a"]
                }
            } else {
                let price = bar < panel.barCount ? panel.close[bar] : .nan
                row += [fixed(price, 4), fixed(s.action, 4), fixed(s.position, 4), fixed(s.fillPrice, 4)]
            }
            table.append(row + [fixed(s.cost, 4), fixed(s.reward, 6), fixed(s.equity, 2)])
        }
        return (table, total)
    }

    /// Checks the episode against its checkpoint: the greedy policy restored from the checkpoint at the episode's
    /// step, run again over the same split, takes the stored actions, and the environment gives every stored step's
    /// bar, date, position, weights, fill price, cost, reward and equity, every stored trade and the episode's totals
    /// bit for bit; the stored actions hash to the episode's actions hash. Returns the numbers of steps and trades
    /// checked; throws one line naming the first difference.
    public func verify() throws -> (steps: Int, trades: Int) {
        guard let split = Split(rawValue: episode.split.rawValue), split != .train else {
            throw RunStateError(
                "\(store.path): run \(run.name): \(title) is a training episode (exploring, cut into chunks); only "
                    + "validation and test episodes can be verified"
            )
        }
        let stored = try store.steps(episodeId: episode.id!)
        guard stored.count == Int(episode.steps) else {
            throw RunStateError(
                "\(store.path): run \(run.name): \(title) keeps \(stored.count) of its "
                    + "\(episode.steps) steps; cannot verify"
            )
        }
        var storedHash = FNV1a()
        for s in stored { storedHash.add(s.action) }
        let where_ = "\(store.path): run \(run.name) \(title)"
        let saved = try SavedRun(run, store: store, step: episode.globalStep)
        let log = try evaluateAgent(try saved.agent(), setup: saved.setup, split: split)
        let tickers = saved.setup.dataset.panel.tickers
        let origin = "the step-\(episode.globalStep) checkpoint"
        for (a, b) in zip(stored, log.steps) {
            guard let (field, was, now) = firstDifference(a, b, tickers: tickers) else { continue }
            throw ReplayMismatchError(
                "\(where_): stored \(field) at bar \(a.barIndex) (\(DateParser.format(a.timestamp))) is \(was) but "
                    + (field == "action"
                        ? "the policy from \(origin) takes \(now)" : "the re-run from \(origin) gives \(now)")
            )
        }
        guard log.length == stored.count else {
            throw ReplayMismatchError(
                "\(where_): \(stored.count) stored steps but the policy's episode has \(log.length)")
        }
        guard storedHash.hex == episode.actionsHash, log.actionsHash == episode.actionsHash else {
            throw ReplayMismatchError(
                "\(where_): actions hash mismatch (episode \(episode.actionsHash), stored steps \(storedHash.hex), "
                    + "replayed \(log.actionsHash))"
            )
        }
        let trades = try store.trades(episodeId: episode.id!)
        for (k, (a, b)) in zip(trades, log.trades).enumerated() {
            let difference =
                a.barIndex != b.barIndex || a.asset != b.asset
                ? ("bar and asset", "\(a.barIndex) \(a.asset)", "\(b.barIndex) \(b.asset)")
                : firstDifference([
                    ("quantity", a.quantity, b.quantity), ("price", a.price, b.price), ("cost", a.cost, b.cost),
                ])
            if let (field, was, now) = difference {
                throw ReplayMismatchError(
                    "\(where_): stored trade \(k) (bar \(a.barIndex), \(a.asset)): its \(field) is \(was) but the "
                        + "re-run from \(origin) gives \(now)"
                )
            }
        }
        guard trades.count == log.trades.count else {
            throw ReplayMismatchError(
                "\(where_): \(trades.count) stored trades but the re-run from \(origin) makes \(log.trades.count)")
        }
        let totals = firstDifference([
            ("total reward", episode.totalReward, log.totalReward),
            ("final equity", episode.finalEquity, log.finalEquity),
            ("costs", episode.costs, log.costs),
        ])
        if let (field, was, now) = totals {
            throw ReplayMismatchError(
                "\(where_): the stored episode's \(field) is \(was) but the re-run from \(origin) gives \(now)")
        }
        return (log.length, trades.count)
    }
}

/// The first field in which stored step `a` and re-run step `b` differ, doubles compared bit for bit, as the field's
/// name and both values (shortest round-trip form, so that a difference in the last bit shows); a panel's weights
/// are compared one by one and named by ticker.
private func firstDifference(_ a: StepRecord, _ b: StepRecord, tickers: [String]) -> (String, String, String)? {
    if a.action.bitPattern != b.action.bitPattern { return ("action", "\(a.action)", "\(b.action)") }
    if a.barIndex != b.barIndex { return ("bar index", "\(a.barIndex)", "\(b.barIndex)") }
    if a.timestamp != b.timestamp {
        return ("date", DateParser.format(a.timestamp), DateParser.format(b.timestamp))
    }
    let values = firstDifference([
        ("position", a.position, b.position), ("fill price", a.fillPrice, b.fillPrice), ("cost", a.cost, b.cost),
        ("reward", a.reward, b.reward), ("equity", a.equity, b.equity),
    ])
    if let values { return values }
    guard a.positionsJSON != b.positionsJSON else { return nil }
    // Each weight is written in its shortest round-trip form, so the texts differ exactly where the bits do.
    let elements = { (json: String) in json.trimmingCharacters(in: ["[", "]"]).split(separator: ",") }
    let (was, now) = (elements(a.positionsJSON), elements(b.positionsJSON))
    if was.count == now.count, let i = was.indices.first(where: { was[$0] != now[$0] }) {
        return ("weight of \(i < tickers.count ? tickers[i] : "asset \(i)")", String(was[i]), String(now[i]))
    }
    return (
        "weights", a.positionsJSON.isEmpty ? "none" : a.positionsJSON,
        b.positionsJSON.isEmpty ? "none" : b.positionsJSON
    )
}

/// The first of `fields` (name, stored, re-run) whose two values differ in their bits, as its name and both values in
/// their shortest round-trip form.
private func firstDifference(_ fields: [(String, Double, Double)]) -> (String, String, String)? {
    fields.first { $0.1.bitPattern != $0.2.bitPattern }.map { ($0.0, "\($0.1)", "\($0.2)") }
}

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
