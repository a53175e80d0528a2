import ArgumentParser
import Experiments
import Foundation

/// `tradesim ensemble RUN… | FILE.yaml`: an ensemble of stored runs as a run of its own.
struct EnsembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensemble",
        abstract:
            "Make an ensemble of stored runs (the seeds of one configuration): a run whose greedy policy averages "
            + "the members' Q-values (DQN) or action probabilities and means (policy gradient), evaluated on the "
            + "members' evaluateOn splits; evaluate, compare and replay it like any run.",
        discussion:
            "The members are run ids or name prefixes, or an agent file with one key, `ensemble:`, listing them.")

    @Argument(help: "Run ids or name prefixes, or agents/NAME.yaml with `ensemble: [RUN, …]`.")
    var members: [String]
    @Option(help: "The run store.")
    var store: String = defaultStorePath

    func run() throws {
        let db = try existingStore(store)
        let references = members.count == 1 && members[0].hasSuffix(".yaml") ? try ensembleFile(members[0]) : members
        let run = try createEnsemble(of: references, store: db)
        print("ensemble \(run.name) of \(references.count) runs")
        let splits = try db.episodes(runId: run.id!).compactMap { Split(rawValue: $0.split.rawValue) }
        print(
            try RunSummary(runs: [run] + references.map { try db.run(reference: $0) }, splits: splits, store: db).text)
    }
}

/// The run references of an ensemble agent file (`ensemble: [RUN, …]` and nothing else).
func ensembleFile(_ path: String) throws -> [String] {
    let node = try StrictYAML.document(path)
    guard let mapping = node.mapping, let list = mapping["ensemble"]?.sequence else {
        throw CLIError("\(path): key 'ensemble' must list the member runs, e.g. ensemble: [RUN, RUN]")
    }
    if let other = mapping.keys.first(where: { $0.string != "ensemble" }) {
        throw CLIError("\(path): unknown key '\(other.string ?? "?")' (an ensemble file has only 'ensemble')")
    }
    return try list.map { item in
        guard let reference = item.string else { throw CLIError("\(path): key 'ensemble' lists run names or ids") }
        return reference
    }
}
