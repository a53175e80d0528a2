import ArgumentParser
import Foundation
import RunStore

extension RunStatus: ExpressibleByArgument {}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the runs in a store (the default), or delete some.",
        subcommands: [RunsListCommand.self, RunsRemoveCommand.self],
        defaultSubcommand: RunsListCommand.self)
}

/// Four significant digits, or an integer for large values.
func format(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    return abs(x) >= 1e4 ? String(Int(x.rounded())) : String(format: "%.4g", x)
}
