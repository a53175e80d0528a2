import ArgumentParser
import Benchmarks
import Foundation

struct BenchSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "A sweep of DQN trials on the S&P 500 run --jobs at a time and then one after another, on local "
            + "processes or as a Slurm job array: wall times, parallel efficiency and the sweep machinery's overhead.")

    @Option(parsing: .unconditional, help: "Trials (seeds of one configuration).")
    var trials: Int = 16
    @Option(parsing: .unconditional, help: "Environment steps per trial.")
    var steps: Int = 2_000
    @Option(parsing: .unconditional, help: "Trials at once (on Slurm, the array's %K).")
    var jobs: Int = 2
    @Option(help: "local or slurm (submitted with sbatch; the stores go in runs/ here, which the nodes must see).")
    var launcher: Launcher = .local
    @Option(help: "The environment file.")
    var env: String = "environments/sp500-daily.yaml"
    @Option(help: "The agent file.")
    var agent: String = "agents/dqn-lstm.yaml"

    func validate() throws {
        guard trials >= 1, steps >= 1, jobs >= 1 else {
            throw ValidationError("--trials, --steps and --jobs must be at least 1")
        }
    }

    func run() throws {
        let result = try benchmarkSweep(
            trials: trials, steps: steps, jobs: jobs, environment: env, agent: agent,
            executable: currentExecutable(), slurm: launcher == .slurm)
        try printJSONLine(result)
    }
}
