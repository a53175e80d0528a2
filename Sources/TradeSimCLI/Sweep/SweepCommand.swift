import ArgumentParser
import Foundation

/// `tradesim sweep`: run a sweep (the default), one of its trials, its status, its results.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Sweeps: many runs of one experiment (a grid or random draws of its keys × seeds × walk-forward "
            + "windows), recorded in the store and run on a local pool of processes or as a Slurm job array.",
        subcommands: [
            SweepStart.self, SweepRunTrial.self, SweepStatusCommand.self, SweepResultsCommand.self,
            SweepCancelCommand.self,
        ],
        defaultSubcommand: SweepStart.self)
}

/// This process's executable, absolute, to start children with.
func currentExecutable() -> String {
    Bundle.main.executableURL?.resolvingSymlinksInPath().path
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}
