import ArgumentParser
import Experiments
import Foundation
import TradingEnv

extension Split: ExpressibleByArgument {}

struct CheckEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-env",
        abstract: "Load an environment file, print its data summary and run the environment checker on every split.")

    @Argument(help: "environments/NAME.yaml")
    var file: String
    @Option(parsing: .unconditional, help: "Seed of the checker's random actions.")
    var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Steps per checked episode (at most).")
    var steps: Int = 2_000

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        let setup = try MarketSetup(path: file)
        print(setup.dataset.summary)
        var failed = false
        for split in Split.allCases where !setup.bars(of: split).isEmpty {
            let env = try setup.environment(split, seed: seed)
            let report = checkEnvironment(env, seed: seed, episodes: 2, maxSteps: steps)
            let status = report.passed ? "ok" : "FAILED"
            print(
                "check \(split.rawValue): \(status) (\(report.episodes) episodes, \(report.steps) steps, decisions "
                    + "from bar \(env.firstBar) to \(env.lastBar - 1))"
            )
            for problem in report.problems { print("  \(problem)") }
            failed = failed || !report.passed
        }
        if failed { throw CLIError("\(file): the environment checker found problems (listed above)") }
    }
}
