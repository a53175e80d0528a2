import Foundation
import RunStore
import Testing

/// 100k training steps of DQN and of PPO on the S&P 500 environment (10 bps of costs: 5 commission + 5 half-spread),
/// each evaluated greedily on the validation years next to the baselines. No threshold on real data: markets give no
/// guarantees; the test checks that the runs finish, log their evaluation and print the comparison. Release build only
/// (`TRADESIM_SLOW=1`, see scripts/test.sh). The runs take two NeuralCore threads, which give one thread's bits
/// (`sameBitsOnOneAndTwoThreads`): the DQN run is the test command's longest, alone at its end.
@Test(.enabled(if: ProcessInfo.processInfo.environment["TRADESIM_SLOW"] != nil), arguments: ["dqn", "ppo"])
func hundredThousandStepsOnTheSP500(algo: String) throws {
    let dir = try temporaryDirectory()
    let r = try runCLI(
        [
            "train", "--env", "environments/sp500-daily.yaml", "--agent", "agents/\(algo)-lstm.yaml",
            "--steps", "100000", "--seed", "1", "--store", dir + "/runs.sqlite",
        ], environment: ["OPENBLAS_NUM_THREADS": "2"])
    #expect(r.status == 0, "\(r.stderr)")
    print(r.stdout.split(separator: "\n").drop { !$0.hasPrefix("validation split") }.joined(separator: "\n"))
    for name in ["buyAndHold", "flat", "momentum", "macd"] { #expect(r.stdout.contains(name)) }
    let store = try RunStore(path: dir + "/runs.sqlite")
    let run = try #require(try store.runs().first)
    #expect(run.status == .finished)
    #expect(try store.metrics(runId: run.id!, key: "charts/globalStep").last?.value ?? 0 >= 100_000)
    #expect(try store.metrics(runId: run.id!, key: "eval/validation/sharpe").count == 1)
}
