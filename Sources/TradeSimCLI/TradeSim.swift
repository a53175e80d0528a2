import ArgumentParser

@main
struct TradeSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tradesim",
        abstract: "Reinforcement-learning trading simulator: leak-free market replay, LSTM agents, runs in SQLite.",
        version: "0.1.0",
        subcommands: [])
}
