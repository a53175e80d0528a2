import Agents
import ArgumentParser
import Benchmarks
import Experiments
import NeuralCore
import SyntheticMarkets

extension Algorithm: ExpressibleByArgument {}
extension EncoderKind: ExpressibleByArgument {}

struct BenchAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract:
            "Training throughput (acting, env steps and updates) of one agent, window 32, encoder E32 H64 L1 by "
            + "default: on the S&P 500 environment (3 actions) or a synthetic panel (--env synthetic --assets N "
            + "--features K: continuous weights over N assets)."
    )

    @Option(help: "dqn, reinforce, a2c or ppo.")
    var algo: Algorithm = .dqn
    @Option(parsing: .unconditional, help: "Environment steps to train (all timed).")
    var steps: Int = 20_000
    @Option(
        help: """
            The environment file, or 'synthetic': a panel of --assets random walks, \
            --features per asset, long-only weights.
            """
    )
    var env: String = "environments/sp500-daily.yaml"
    @Option(parsing: .unconditional, help: "Assets of the synthetic panel (F = assets × features).")
    var assets: Int = 100
    @Option(parsing: .unconditional, help: "Features per asset of the synthetic panel (1…5).")
    var features: Int = 4
    @Option(help: "Encoder body: lstm, cnn or mlp.")
    var encoder: EncoderKind = .lstm
    @Option(parsing: .unconditional, help: "Market2Vec width E.")
    var embedding: Int = 32
    @Option(parsing: .unconditional, help: "Hidden units H.")
    var hidden: Int = 64
    @OptionGroup var kernels: KernelOption

    func validate() throws {
        guard steps >= 100 else { throw ValidationError("--steps must be at least 100") }
        guard assets >= 2 else { throw ValidationError("--assets must be at least 2") }
        guard (1...5).contains(features) else { throw ValidationError("--features must be 1…5") }
        guard embedding >= 1, hidden >= 1 else { throw ValidationError("--embedding and --hidden must be positive") }
    }

    func run() throws {
        let market =
            env == "synthetic"
            ? try syntheticMarketEnv(assets: assets, features: features, window: 32)
            : try MarketSetup(path: env).environment(.train) { $0.window = 32 }
        kernels.apply()
        let body = EncoderConfig(embedding: embedding, hidden: hidden, layers: 1, kind: encoder)
        let result = benchmarkAgent(algo: algo, env: market, steps: steps, config: benchmarkConfig(algo, encoder: body))
        try printJSONLine(
            result,
            adding: [
                "blasThreads": blasThreads(), "window": 32, "inputWidth": AgentSpec(of: market).inputWidth,
                "encoder": encoder.rawValue, "embedding": embedding, "hidden": hidden,
                "kernels": MicroKernels.current.rawValue,
            ])
    }
}
