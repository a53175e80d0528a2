import ArgumentParser
import Experiments
import Foundation
import MarketData
import RunStore

extension EpisodeSplit: ExpressibleByArgument {}

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Show a stored episode bar by bar (date, price, action, position, fill, cost, reward, equity), or verify "
            + "it against its checkpoint."
    )

    @Argument(help: "Run id or the start of its name.")
    var reference: String
    @Option(parsing: .unconditional, help: "Episode number within the split (default: the split's last episode).")
    var episode: Int?
    @Option(help: "train, validation or test.")
    var split: EpisodeSplit = .validation
    @Option(parsing: .unconditional, help: "First stored row to show (0-based).")
    var from: Int = 0
    @Option(parsing: .unconditional, help: "Rows to show.")
    var limit: Int = 50
    @Flag(
        help: """
            Re-run the greedy policy from the checkpoint the episode was written at and check that it \
            takes the stored actions and gives every stored step, trade and total bit for bit.
            """
    )
    var verify = false
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func validate() throws {
        if from < 0 { throw ValidationError("--from must be ≥ 0") }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let episode, episode < 0 { throw ValidationError("--episode must be ≥ 0") }
    }

    func run() throws {
        let replay = try EpisodeReplay(reference, split: split, index: episode, store: storeToRead(store))
        let e = replay.episode
        if verify {
            let (steps, trades) = try replay.verify()
            print(
                "\(replay.run.name) \(replay.title): verified \(steps) steps (actions, positions, fills, costs, rewards, "
                    + "equity), \(trades) trades and the episode's totals against the step-\(e.globalStep) checkpoint "
                    + "(actions hash \(e.actionsHash))"
            )
            return
        }
        let (table, total) = try replay.page(from: from, limit: limit)
        print(
            "\(replay.run.name) \(replay.title): \(e.steps) steps, "
                + "\(DateParser.format(e.firstTimestamp))…\(DateParser.format(e.lastTimestamp)), total reward "
                + "\(String(format: "%.6f", e.totalReward)), final equity \(String(format: "%.2f", e.finalEquity)), "
                + "costs \(String(format: "%.2f", e.costs)), written at step \(e.globalStep)"
        )
        print(table.plain)
        let last = from + table.rows.count
        if total == 0 {
            print("(no step rows stored for this episode: set logEvery in the experiment to keep training steps)")
        } else if table.rows.isEmpty {
            print("(--from \(from) is past the last stored row; \(total) rows)")
        } else {
            print("rows \(from)…\(last - 1) of \(total) stored\(last < total ? "; next page: --from \(last)" : "")")
        }
    }
}
