import Foundation
import MarketData
import RunStore

/// One stored episode of a run, bar by bar (`tradesim replay`): a page of its step rows with the close of the first
/// asset at each bar, and `verify`, which re-runs the policy from the checkpoint the episode was written at.
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

    /// Checks the episode against its checkpoint: the stored step actions hash to the episode's actions hash, and the
    /// greedy policy restored from the checkpoint at the episode's step, run again over the same split, takes the same
    /// actions. Returns the number of actions checked; throws one line naming the first difference.
    public func verify() throws -> Int {
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
        if let k = zip(stored, log.steps).map({ $0.action.bitPattern != $1.action.bitPattern }).firstIndex(of: true) {
            let (a, b) = (stored[k], log.steps[k])
            throw ReplayMismatchError(
                "\(where_): stored action at bar \(a.barIndex) (\(DateParser.format(a.timestamp))) is "
                    + "\(fixed(a.action, 4)) but the policy from the step-\(episode.globalStep) checkpoint "
                    + "takes \(fixed(b.action, 4))"
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
        return log.length
    }
}

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
