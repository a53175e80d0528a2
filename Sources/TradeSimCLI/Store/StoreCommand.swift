import ArgumentParser

/// `tradesim store …`: work on whole stores.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Work on whole run stores (SQLite files or PostgreSQL URLs).",
        subcommands: [StoreCopyCommand.self])
}
