import Foundation
import GRDB
import NeuralCore
import Testing

@testable import Experiments
@testable import RunStore

// Issue #7's bad-input matrix: every row runs the real `tradesim` binary and must end with a non-zero exit, exactly one
// `error: …` line on stderr naming the file and the row / key / flag, no crash, and a run store that is unchanged (or,
// when the failure happens mid-run, consistent: integrity ok, the earlier rows untouched, no half-written episode).

/// One row of the matrix: what to set up in a fresh folder, the command, and what the error line must contain.
struct BadInputCase: Sendable, CustomStringConvertible {
    var description: String
    /// Sets up the case in `dir` (the store `dir/runs.sqlite` already holds one run) and returns the arguments.
    var arguments: @Sendable (_ dir: String) throws -> [String]
    /// Substrings of the error line (`DIR` is replaced by the case's folder).
    var expected: [String]
    /// Extra environment variables of the process.
    var environment: [String: String] = [:]
    /// The store may gain rows from the failing command (a mid-run failure) but must stay consistent.
    var storeMayGrow = false
}

/// The S&P 500 file's lines, for mutating one row (line numbers in messages are 1-based and count the header).
let sp500Lines: [String] = {
    let text = try! String(contentsOfFile: repoRoot + "/data/sp500_1999_2018_arch.csv", encoding: .utf8)
    return text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        .map(String.init)
}()

/// Where a row appended to the S&P 500 file goes (before the empty string after its last newline, if any).
let strayRowIndex = sp500Lines.last == "" ? sp500Lines.count - 1 : sp500Lines.count

/// Writes `bad.csv` (the S&P 500 file with `change` applied to its lines) and `env.yaml` using it; returns the train
/// command on that environment.
func csvCase(_ dir: String, file: String = "bad.csv", _ change: (inout [String]) -> Void) throws -> [String] {
    var lines = sp500Lines
    change(&lines)
    try lines.joined(separator: "\n").write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
    return try environmentCase(dir) {
        $0.replacingOccurrences(of: repoRoot + "/data/sp500_1999_2018_arch.csv", with: file)
    }
}

/// Writes `env.yaml` (the S&P 500 environment with `change` applied, its data path made absolute) and returns the train
/// command on it with the tiny DQN agent.
func environmentCase(_ dir: String, _ change: (String) -> String) throws -> [String] {
    let text = try String(contentsOfFile: repoRoot + "/environments/sp500-daily.yaml", encoding: .utf8)
        .replacingOccurrences(of: "../data/sp500_1999_2018_arch.csv", with: repoRoot + "/data/sp500_1999_2018_arch.csv")
        .replacingOccurrences(of: "window: 32", with: "window: 8")
    try change(text).write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
    return [
        "train", "--env", dir + "/env.yaml", "--agent", repoRoot + "/agents/dqn-lstm.yaml", "--steps", "10",
        "--store", dir + "/runs.sqlite",
    ]
}

/// `environmentCase` with the tiny DQN agent's file changed by `change` (written to DIR/agent.yaml).
func agentCase(_ dir: String, _ change: (String) -> String) throws -> [String] {
    let text = try String(contentsOfFile: repoRoot + "/agents/dqn-lstm.yaml", encoding: .utf8)
    try change(text).write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
    return try environmentCase(dir) { $0 }.map { $0.hasSuffix("dqn-lstm.yaml") ? dir + "/agent.yaml" : $0 }
}

/// Writes `exp.yaml`, an experiment on the S&P 500 environment and the DQN agent with `overrides` (YAML lines under
/// `overrides:`, from line 6) and returns the train command on it.
@discardableResult
func experimentCase(_ dir: String, overrides: String) throws -> [String] {
    let text = """
        environment: \(repoRoot)/environments/sp500-daily.yaml
        agent: \(repoRoot)/agents/dqn-lstm.yaml
        steps: 10
        store: \(dir)/runs.sqlite
        overrides:
        \(overrides)

        """
    try text.write(toFile: dir + "/exp.yaml", atomically: true, encoding: .utf8)
    return ["train", dir + "/exp.yaml"]
}

/// Replaces field `column` of data line `line` (1-based, header = 1).
func setField(_ lines: inout [String], line: Int, column: Int, to value: String) {
    var fields = lines[line - 1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    fields[column] = value
    lines[line - 1] = fields.joined(separator: ",")
}

/// A tiny PPO run with a checkpoint at step 256, trained once: its store and checkpoint folder.
let trainedFixture: Result<(store: String, checkpoints: String), CLIFailure> = {
    guard let t = try? checkpointingExperiment(steps: 256), let r = try? runCLI(["train", t.experiment]) else {
        return .failure(CLIFailure("cannot start the fixture run"))
    }
    return r.status == 0 ? .success((t.store, t.dir + "/checkpoints")) : .failure(CLIFailure(r.stderr))
}()

/// A copy of the trained fixture in `dir` (its store replaces `dir/runs.sqlite`, checkpoint rows point at the copied
/// files); returns the run id and its network checkpoint file.
func trainedRun(_ dir: String) throws -> (id: Int64, network: String) {
    let fixture = try trainedFixture.get()
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir + "/runs.sqlite" + suffix) }
    try FileManager.default.copyItem(atPath: fixture.checkpoints, toPath: dir + "/checkpoints")
    try RunStore(path: fixture.store).pool.writeWithoutTransaction { db in
        try db.execute(sql: "VACUUM INTO ?", arguments: [dir + "/runs.sqlite"])
    }
    let store = try RunStore(path: dir + "/runs.sqlite")
    try store.pool.write { db in
        try db.execute(
            sql: "UPDATE checkpoint SET file = replace(file, ?, ?)",
            arguments: [fixture.checkpoints, dir + "/checkpoints"])
    }
    let run = try #require(try store.runs().last)
    let file = try #require(try store.checkpoints(runId: run.id!).first { $0.file.hasSuffix("network.safetensors") })
        .file
    return (run.id!, file)
}

struct CLIFailure: Error, CustomStringConvertible, Sendable {
    let description: String; init(_ d: String) { description = d }
}

let badInputCases: [BadInputCase] = [
    // CSV
    BadInputCase(
        description: "csv: missing column",
        arguments: { dir in
            try csvCase(dir) { lines in
                for i in lines.indices where !lines[i].isEmpty {
                    var f = lines[i].split(separator: ",", omittingEmptySubsequences: false); f.remove(at: 3)
                    lines[i] = f.joined(separator: ",")
                }
            }
        }, expected: ["DIR/env.yaml: data: bad.csv:1:", "missing column 'low'"]),
    BadInputCase(
        description: "csv: unparseable date",
        arguments: { dir in
            try csvCase(dir) { setField(&$0, line: 101, column: 0, to: "13/45/2003") }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "column 'Date'", "13/45/2003"]),
    BadInputCase(
        description: "csv: duplicate date",
        arguments: { dir in
            try csvCase(dir) { lines in
                let date = String(lines[99].prefix { $0 != "," })
                setField(&lines, line: 101, column: 0, to: date)
            }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "duplicate date"]),
    BadInputCase(
        description: "csv: decreasing dates",
        arguments: { dir in
            try csvCase(dir) { $0.swapAt(100, 101) }
        }, expected: ["DIR/env.yaml: data: bad.csv:", "out of order"]),
    BadInputCase(
        description: "csv: a stray old row at the end",
        arguments: { dir in
            try csvCase(dir) { lines in
                lines.insert("12/31/1998,1229,1231,1220,1229.23,1229.23,700000000", at: strayRowIndex)
            }
        }, expected: ["DIR/env.yaml: data: bad.csv:\(strayRowIndex + 1):", "out of order"]),
    BadInputCase(
        description: "csv: empty file",
        arguments: { dir in
            try csvCase(dir) { $0 = [] }
        }, expected: ["DIR/env.yaml: data: bad.csv", "empty file"]),
    BadInputCase(
        description: "csv: header only",
        arguments: { dir in
            try csvCase(dir) { $0 = [$0[0]] }
        }, expected: ["DIR/env.yaml: data: bad.csv", "header only"]),
    BadInputCase(
        description: "csv: NaN price",
        arguments: { dir in
            try csvCase(dir) { setField(&$0, line: 101, column: 4, to: "NaN") }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "column 'Close'", "not a finite positive price"]),
    BadInputCase(
        description: "csv: Inf price",
        arguments: { dir in
            try csvCase(dir) { setField(&$0, line: 101, column: 2, to: "inf") }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "column 'High'", "not a finite positive price"]),
    BadInputCase(
        description: "csv: negative price",
        arguments: { dir in
            try csvCase(dir) { setField(&$0, line: 101, column: 1, to: "-1228.1") }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "column 'Open'", "not a finite positive price"]),
    BadInputCase(
        description: "csv: zero price",
        arguments: { dir in
            try csvCase(dir) { setField(&$0, line: 101, column: 3, to: "0") }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "column 'Low'", "not a finite positive price"]),
    BadInputCase(
        description: "csv: high below low",
        arguments: { dir in
            try csvCase(dir) { lines in
                let f = lines[100].split(separator: ",").map(String.init)
                setField(&lines, line: 101, column: 2, to: f[3])
                setField(&lines, line: 101, column: 3, to: f[2])
            }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "column 'Low'", "above high"]),
    BadInputCase(
        description: "csv: text in a number field",
        arguments: { dir in
            try csvCase(dir) { setField(&$0, line: 101, column: 6, to: "lots") }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "column 'Volume'", "'lots' is not a number"]),
    BadInputCase(
        description: "csv: mixed date formats",
        arguments: { dir in
            try csvCase(dir) { setField(&$0, line: 101, column: 0, to: "1999-05-27") }
        }, expected: ["DIR/env.yaml: data: bad.csv:101:", "mixed date formats"]),
    BadInputCase(
        description: "csv: truncated gzip",
        arguments: { dir in
            let whole = try Data(contentsOf: URL(fileURLWithPath: repoRoot + "/data/us_stocks_20_1990_2012.csv.gz"))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.csv.gz"))
            return try environmentCase(dir) {
                $0.replacingOccurrences(of: repoRoot + "/data/sp500_1999_2018_arch.csv", with: "cut.csv.gz")
            }
        }, expected: ["DIR/env.yaml: data: DIR/cut.csv.gz", "truncated gzip"]),
    // YAML
    BadInputCase(
        description: "yaml: unknown key",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "window: 8", with: "windw: 8") }
        }, expected: ["DIR/env.yaml", "unknown key 'market.windw'"]),
    BadInputCase(
        description: "yaml: wrong type",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "window: 8", with: "window: eight") }
        }, expected: ["DIR/env.yaml", "market.window"]),
    BadInputCase(
        description: "yaml: missing referenced file",
        arguments: { dir in
            try environmentCase(dir) {
                $0.replacingOccurrences(of: repoRoot + "/data/sp500_1999_2018_arch.csv", with: "nowhere.csv")
            }
        }, expected: ["DIR/nowhere.csv", "cannot open"]),
    BadInputCase(
        description: "yaml: negative costs",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "commissionBps: 5", with: "commissionBps: -5") }
        }, expected: ["DIR/env.yaml", "commissionBps"]),
    BadInputCase(
        description: "yaml: window longer than the split",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "window: 8", with: "window: 3100") }
        }, expected: ["DIR/env.yaml", "train split: window 3100", "leaves no step"]),
    BadInputCase(
        description: "yaml: empty split",
        arguments: { dir in
            try environmentCase(dir) {
                $0.replacingOccurrences(of: "validation: [2011, 2012]", with: "validation: [2030, 2031]")
            }
        }, expected: ["DIR/env.yaml", "validation"]),
    BadInputCase(
        description: "yaml: overlapping splits",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "train: [1999, 2010]", with: "train: [1999, 2011]") }
        }, expected: ["DIR/env.yaml", "overlap"]),
    BadInputCase(
        description: "yaml: unknown agent name",
        arguments: { dir in
            var args = try environmentCase(dir) { $0 }
            try "algo: sac\n".write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
            args[4] = dir + "/agent.yaml"
            return args
        }, expected: ["DIR/agent.yaml", "unknown algorithm 'sac'"]),
    BadInputCase(
        description: "yaml: unknown reward name",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "kind: logReturn", with: "kind: sharpe") }
        }, expected: ["DIR/env.yaml", "market.reward.kind"]),
    // CLI
    BadInputCase(
        description: "cli: unknown run id",
        arguments: { dir in
            ["replay", "999", "--store", dir + "/runs.sqlite"]
        }, expected: ["DIR/runs.sqlite", "no run with id 999"]),
    BadInputCase(
        description: "cli: bad flag value --steps",
        arguments: { dir in
            try environmentCase(dir) { $0 }.map { $0 == "10" ? "0" : $0 }
        }, expected: ["--steps"]),
    BadInputCase(
        description: "cli: bad flag value --split",
        arguments: { dir in
            ["evaluate", "1", "--split", "future", "--store", dir + "/runs.sqlite"]
        }, expected: ["--split", "future"]),
    BadInputCase(
        description: "cli: bad flag value --limit",
        arguments: { dir in
            ["replay", "1", "--limit", "0", "--store", dir + "/runs.sqlite"]
        }, expected: ["--limit"]),
    BadInputCase(
        description: "cli: malformed thread count",
        arguments: { dir in try environmentCase(dir) { $0 } },
        expected: ["OPENBLAS_NUM_THREADS must be a positive integer, not 'two'"],
        environment: ["OPENBLAS_NUM_THREADS": "two"]),
    BadInputCase(
        description: "env: DQN on continuous weights",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "kind: discrete", with: "kind: weights") }
        },
        expected: ["DIR/env.yaml", "a DQN agent needs discrete actions"]),
    BadInputCase(
        description: "env: discrete levels on a panel",
        arguments: { dir in
            let text = try String(contentsOfFile: repoRoot + "/environments/us-stocks-daily.yaml", encoding: .utf8)
                .replacingOccurrences(of: "../data/", with: repoRoot + "/data/")
                .replacingOccurrences(of: "kind: weights", with: "kind: discrete")
            try text.write(toFile: dir + "/panel.yaml", atomically: true, encoding: .utf8)
            return [
                "train", "--env", dir + "/panel.yaml", "--agent", repoRoot + "/agents/a2c-portfolio.yaml", "--steps",
                "10", "--store", dir + "/runs.sqlite",
            ]
        }, expected: ["DIR/panel.yaml", "discrete on a panel of 20 assets", "use kind: weights"]),
    BadInputCase(
        description: "env: feature warm-up longer than the train split",
        arguments: { dir in
            try environmentCase(dir) {
                $0.replacingOccurrences(of: "train: [1999, 2010]", with: "train: [1999, 1999]")
                    .replacingOccurrences(
                        of: "    volumeWindow: 20\n    volatilityWindow: 20",
                        with: "    - macd: {pairs: [[8, 24], [32, 96]]}")
            }
        }, expected: ["DIR/env.yaml", "no training rows after the feature warm-up"]),
    BadInputCase(
        description: "env: validation split evaluated but empty",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "validation: [2011, 2012]", with: "validation: []") }
        }, expected: ["DIR/env.yaml: the run evaluates the validation split", "which has no bars"]),
    BadInputCase(
        description: "env: a window of Int.max bars",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "window: 8", with: "window: \(Int.max)") }
        }, expected: ["DIR/env.yaml", "window \(Int.max)", "leaves no step"]),
    BadInputCase(
        description: "env: equityFloor of 10",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "equityFloor: 0.1", with: "equityFloor: 10") }
        }, expected: ["DIR/env.yaml", "equityFloor is a fraction of initialCash"]),
    BadInputCase(
        description: "env: volSpan of 1",
        arguments: { dir in
            try environmentCase(dir) {
                $0.replacingOccurrences(of: "kind: logReturn", with: "kind: logReturn\n    volSpan: 1")
            }
        }, expected: ["DIR/env.yaml", "reward.volSpan must be at least 2"]),
    BadInputCase(
        description: "env: a ticker listed twice",
        arguments: { dir in
            try environmentCase(dir) {
                $0.replacingOccurrences(of: "  repair: error", with: "  repair: error\n  tickers: [A, A]")
            }
        }, expected: ["sp500_1999_2018_arch.csv", "key 'tickers' lists 'A' twice"]),
    BadInputCase(
        description: "agent: hidden size 0",
        arguments: { dir in try agentCase(dir) { $0.replacingOccurrences(of: "  hidden: 64", with: "  hidden: 0") } },
        expected: ["DIR/agent.yaml", "encoder.hidden must be at least 1, not 0"]),
    BadInputCase(
        description: "agent: a replay larger than the machine's memory",
        arguments: { dir in
            try agentCase(dir) {
                $0.replacingOccurrences(of: "bufferSize: 100000", with: "bufferSize: 1000000000000000")
            }
        },
        expected: ["DIR/agent.yaml", "bufferSize 1000000000000000 needs at least 46000000.0 GB for the replay"]),
    BadInputCase(
        description: "agent: an infinite rewardScale",
        arguments: { dir in
            try agentCase(dir) { $0.replacingOccurrences(of: "rewardScale: 100", with: "rewardScale: .inf") }
        },
        expected: ["DIR/agent.yaml", "key 'rewardScale' must be a finite number, got '.inf' (line 36)"]),
    BadInputCase(
        description: "env: a NaN reward parameter, in check-env",
        arguments: { dir in
            _ = try environmentCase(dir) {
                $0.replacingOccurrences(of: "kind: logReturn", with: "kind: logReturn\n    dsrEta: .nan")
            }
            return ["check-env", dir + "/env.yaml"]
        },
        expected: ["DIR/env.yaml", "key 'market.reward.dsrEta' must be a finite number, got '.nan' (line 26)"]),
    BadInputCase(
        description: "agent: hidden size 10,000,000",
        arguments: { dir in
            try agentCase(dir) { $0.replacingOccurrences(of: "  hidden: 64", with: "  hidden: 10000000") }
        },
        expected: ["DIR/agent.yaml", "encoder.hidden must be at most 4096, not 10000000"]),
    BadInputCase(
        description: "agent: 100,000,000 environments",
        arguments: { dir in
            try agentCase(dir) { $0.replacingOccurrences(of: "numEnvs: 1", with: "numEnvs: 100000000") }
        },
        expected: ["DIR/agent.yaml", "numEnvs must be at most 1024, not 100000000"]),
    BadInputCase(
        description: "agent: an encoder larger than the machine's memory",
        arguments: { dir in
            try agentCase(dir) {
                $0.replacingOccurrences(of: "  hidden: 64", with: "  hidden: 4096")
                    .replacingOccurrences(of: "  embedding: 32", with: "  embedding: 4096")
                    .replacingOccurrences(of: "  layers: 1", with: "  layers: 16")
                    .replacingOccurrences(of: "batchSize: 64", with: "batchSize: 65536")
            }
        },
        expected: [
            "DIR/agent.yaml on DIR/env.yaml: encoder lstm with embedding 4096, hidden 4096 and 16 layers", "needs",
        ]),
    BadInputCase(
        description: "env: a MACD period of Int.max bars",
        arguments: { dir in
            try environmentCase(dir) {
                $0.replacingOccurrences(
                    of: "    volumeWindow: 20\n    volatilityWindow: 20",
                    with: "    - logReturn\n    - macd: {pairs: [[8, 24]], priceWindow: \(Int.max)}")
            }
        }, expected: ["DIR/env.yaml", "macd priceWindow \(Int.max) must be at most 100000 bars"]),
    BadInputCase(
        description: "cli: --steps beyond ten billion",
        arguments: { dir in try environmentCase(dir) { $0 }.map { $0 == "10" ? "\(Int.max)" : $0 } },
        expected: ["--steps must be at most 10000000000"]),
    BadInputCase(
        description: "cli: --resamples Int.max",
        arguments: { dir in
            try "return\n0.01\n-0.02\n0.03\n".write(toFile: dir + "/r.csv", atomically: true, encoding: .utf8)
            return ["metrics", dir + "/r.csv", "--resamples", "\(Int.max)"]
        }, expected: ["--resamples must be at most 1000000"]),
    BadInputCase(
        description: "cli: --cuts Int.max",
        arguments: { dir in
            _ = try environmentCase(dir) { $0 }
            return ["audit", dir + "/env.yaml", "--cuts", "\(Int.max)"]
        }, expected: ["--cuts must be at most 1000"]),
    BadInputCase(
        description: "cli: --cuts beyond the data's bars",
        arguments: { dir in
            _ = try csvCase(dir) { $0 = Array($0.prefix(120)) }
            let env = try String(contentsOfFile: dir + "/env.yaml", encoding: .utf8)
                .replacingOccurrences(of: "validation: [2011, 2012]", with: "validation: []")
                .replacingOccurrences(of: "test: [2013, 2018]", with: "test: []")
            try env.write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
            return ["audit", dir + "/env.yaml", "--cuts", "1000"]
        }, expected: ["--cuts 1000: the data has 98 bars to cut at"]),
    BadInputCase(
        description: "sweep: 10^12 random trials",
        arguments: { dir in
            try
                (tinyDQNExperiment()
                + "sweep: {grid: {agent.gamma: {uniform: [0.9, 0.99]}}, random: {trials: 1000000000000, seed: 1}}\n")
                .write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
            return ["sweep", dir + "/sweep.yaml", "--store", dir + "/runs.sqlite"]
        }, expected: ["DIR/sweep.yaml", "'sweep.random.trials' must be a positive integer, at most 10000"]),
    BadInputCase(
        description: "sweep: a grid of 10^15 configurations",
        arguments: { dir in
            let values = "[" + (1...1000).map { "\(Double($0) / 1024)" }.joined(separator: ", ") + "]"
            try
                (tinyDQNExperiment() + "sweep:\n  grid:\n"
                + ["agent.gamma", "agent.tau", "agent.epsilonEnd", "agent.huberDelta", "agent.priorityAlpha"].map {
                    "    \($0): \(values)\n"
                }.joined()).write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
            return ["sweep", dir + "/sweep.yaml", "--store", dir + "/runs.sqlite"]
        }, expected: ["DIR/sweep.yaml: the sweep has 1000000000000000 trials", "more than the 10000"]),
    BadInputCase(
        description: "sweep: a grid value that only the environment's data refuses",
        arguments: { dir in
            try (tinyDQNExperiment() + "steps: 100\nsweep: {grid: {environment.market.window: [0, -1]}}\n")
                .write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
            return ["sweep", dir + "/sweep.yaml", "--store", dir + "/runs.sqlite"]
        },
        expected: [
            "DIR/sweep.yaml: sweep key 'environment.market.window' value '0'", "window must be at least 1, not 0",
        ]
    ),
    BadInputCase(
        description: "sweep: a combination of grid values that fits no data",
        arguments: { dir in
            try
                (tinyDQNExperiment() + "steps: 100\nsweep:\n  grid:\n    environment.market.window: [8, 2990]\n"
                + "    environment.data.splits.train: [[1999, 2010], [1999, 2001]]\n")
                .write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
            return ["sweep", dir + "/sweep.yaml", "--store", dir + "/runs.sqlite"]
        },
        expected: [
            "DIR/sweep.yaml: sweep configuration 3 (environment.market.window=2990 "
                + "environment.data.splits.train=[1999, 2001]): ", "leaves no step in the split of 752 bars",
        ]),
    BadInputCase(
        description: "cli: --checkpoints where no folder can be made",
        arguments: { dir in try environmentCase(dir) { $0 } + ["--checkpoints", "/proc/nope/ck"] },
        expected: ["--checkpoints /proc/nope/ck: cannot create the folder (/proc/nope: No such file or directory)"]),
    BadInputCase(
        description: "cli: --tensorboard where no folder can be made",
        arguments: { dir in try environmentCase(dir) { $0 } + ["--tensorboard", "/proc/nope/tb"] },
        expected: ["--tensorboard /proc/nope/tb: cannot create the folder (/proc/nope: No such file or directory)"]),
    BadInputCase(
        description: "cli: --out where no folder can be made",
        arguments: { _ in ["features", repoRoot + "/environments/sp500-daily.yaml", "--out", "/proc/nope/x.csv"] },
        expected: ["--out /proc/nope/x.csv: cannot make the folder /proc/nope (No such file or directory)"]),
    BadInputCase(
        description: "cli: --out in a folder that takes no new file",
        arguments: { _ in ["features", repoRoot + "/environments/sp500-daily.yaml", "--out", "/sys/x.csv"] },
        expected: ["--out /sys/x.csv: cannot write in the folder ("]),
    BadInputCase(
        description: "experiment: a checkpoints key where no folder can be made",
        arguments: { dir in
            try (tinyDQNExperiment() + "steps: 100\ncheckpoints: /proc/nope/ck\n")
                .write(toFile: dir + "/exp.yaml", atomically: true, encoding: .utf8)
            return ["train", dir + "/exp.yaml", "--store", dir + "/runs.sqlite"]
        },
        expected: ["DIR/exp.yaml: key 'checkpoints' /proc/nope/ck: cannot create the folder (/proc/nope: No such"]),
    BadInputCase(
        description: "sweep: --checkpoints where no folder can be made",
        arguments: { dir in
            try (tinyDQNExperiment() + "steps: 100\nsweep: {grid: {agent.gamma: [0.9, 0.99]}}\n")
                .write(toFile: dir + "/sweep.yaml", atomically: true, encoding: .utf8)
            return ["sweep", dir + "/sweep.yaml", "--store", dir + "/runs.sqlite", "--checkpoints", "/proc/nope"]
        }, expected: ["--checkpoints /proc/nope: cannot create the folder (No such file or directory)"]),
    BadInputCase(
        description: "experiment: an unknown key in overrides.agent",
        arguments: { dir in try experimentCase(dir, overrides: "  agent: {epsilonStep: 10000}") },
        expected: ["error: DIR/exp.yaml: line 6: unknown key 'overrides.agent.epsilonStep' (known keys: algo,"]),
    BadInputCase(
        description: "experiment: a wrong type in overrides.environment",
        arguments: { dir in try experimentCase(dir, overrides: "  environment:\n    market:\n      window: eight") },
        expected: [
            "error: DIR/exp.yaml: key 'overrides.environment.market.window' must be an integer, got 'eight' (line 8)"
        ]
    ),
    BadInputCase(
        description: "experiment: an agent value out of range in overrides",
        arguments: { dir in try experimentCase(dir, overrides: "  agent:\n    encoder: {hidden: 0}") },
        expected: ["error: DIR/exp.yaml: overrides.agent: encoder.hidden must be at least 1, not 0"]),
    BadInputCase(
        description: "experiment: an environment value its data refuses in overrides",
        arguments: { dir in try experimentCase(dir, overrides: "  environment:\n    market: {window: 0}") },
        expected: ["error: DIR/exp.yaml: overrides.environment: train split: window must be at least 1, not 0"]),
    BadInputCase(
        description: "sweep: an unknown grid key",
        arguments: { dir in
            try experimentCase(dir, overrides: "  agent: {gamma: 0.9}\nsweep: {grid: {environment.market.windw: [8]}}")
            return ["sweep", dir + "/exp.yaml", "--store", dir + "/runs.sqlite"]
        },
        expected: [
            "error: DIR/exp.yaml: sweep key 'environment.market.windw' value '8': unknown key "
                + "'overrides.environment.market.windw' (known keys: actions,"
        ]),
    BadInputCase(
        description: "cli: negative seed",
        arguments: { dir in try environmentCase(dir) { $0 } + ["--seed=-1"] },
        expected: ["--seed", "seed -1 must be ≥ 0"]),
    BadInputCase(
        description: "cli: too many CSCV blocks",
        arguments: { dir in ["sweep", "results", "sw", "--blocks", "40", "--store", dir + "/runs.sqlite"] },
        expected: ["--blocks must be at most 20", "got 40"]),
    BadInputCase(
        description: "cli: empty store path",
        arguments: { _ in ["runs", "--store", ""] }, expected: ["''", "an empty store path"]),
    BadInputCase(
        description: "cli: missing store",
        arguments: { dir in
            ["runs", "--store", dir + "/nope.sqlite"]
        }, expected: ["DIR/nope.sqlite", "no such run store"]),
    // YAML files that are not YAML documents
    BadInputCase(
        description: "yaml: the environment path is a folder",
        arguments: { dir in
            try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
            try experimentCase(dir, overrides: "  agent: {gamma: 0.9}")
            let text = try String(contentsOfFile: dir + "/exp.yaml", encoding: .utf8)
                .replacingOccurrences(of: repoRoot + "/environments/sp500-daily.yaml", with: dir + "/sub")
            try text.write(toFile: dir + "/exp.yaml", atomically: true, encoding: .utf8)
            return ["train", dir + "/exp.yaml"]
        }, expected: ["DIR/sub: is a folder, not a YAML file"]),
    BadInputCase(
        description: "yaml: an empty experiment file",
        arguments: { dir in
            try "# nothing yet\n".write(toFile: dir + "/exp.yaml", atomically: true, encoding: .utf8)
            return ["train", dir + "/exp.yaml", "--store", dir + "/runs.sqlite"]
        }, expected: ["DIR/exp.yaml: the file is empty (no YAML document)"]),
    BadInputCase(
        description: "yaml: a tag for another reader",
        arguments: { dir in
            try "!!python/object:os.system {}\n".write(toFile: dir + "/exp.yaml", atomically: true, encoding: .utf8)
            return ["train", dir + "/exp.yaml", "--store", dir + "/runs.sqlite"]
        }, expected: ["DIR/exp.yaml: line 1: tag tag:yaml.org,2002:python/object:os.system is not one of YAML's own"]),
    BadInputCase(
        description: "yaml: bytes that are not UTF-8",
        arguments: { dir in
            try Data([0x73, 0x74, 0x65, 0x70, 0x73, 0x3A, 0x20, 0xFF, 0xFE, 0x0A]).write(
                to: URL(fileURLWithPath: dir + "/agent.yaml"))
            return try environmentCase(dir) { $0 }.map { $0.hasSuffix("dqn-lstm.yaml") ? dir + "/agent.yaml" : $0 }
        }, expected: ["DIR/agent.yaml: cannot read the file (it is not UTF-8 text)"]),
    // Values that decode but make no sense
    BadInputCase(
        description: "env: one-way costs of the whole notional",
        arguments: { dir in
            try environmentCase(dir) { $0.replacingOccurrences(of: "commissionBps: 5", with: "commissionBps: 20000") }
        }, expected: ["DIR/env.yaml", "commissionBps + halfSpreadBps + slippageBps is 20005.0 bps"]),
    BadInputCase(
        description: "env: a level twice",
        arguments: { dir in
            try environmentCase(dir) {
                $0.replacingOccurrences(of: "levels: [-1, 0, 1]", with: "levels: [-1, 0, 1, 1]")
            }
        }, expected: ["DIR/env.yaml", "actions.levels lists 1.0 twice"]),
    BadInputCase(
        description: "agent: negative learningStarts",
        arguments: { dir in
            try agentCase(dir) { $0.replacingOccurrences(of: "learningStarts: 1000", with: "learningStarts: -5") }
        }, expected: ["DIR/agent.yaml", "learningStarts must be ≥ 0, not -5"]),
    BadInputCase(
        description: "agent: rewardScale 0",
        arguments: { dir in
            try agentCase(dir) { $0.replacingOccurrences(of: "rewardScale: 100", with: "rewardScale: 0") }
        }, expected: ["DIR/agent.yaml", "rewardScale must be > 0 (it multiplies every reward), not 0.0"]),
    BadInputCase(
        description: "sweep: a grid value twice",
        arguments: { dir in
            try experimentCase(dir, overrides: "  agent: {gamma: 0.9}")
            return ["sweep", dir + "/exp.yaml", "--set", "agent.learningRate=1e-4,0.0001", "--jobs", "1"]
        }, expected: ["--set agent.learningRate: lists 0.0001 twice (the same trials twice)"]),
    BadInputCase(
        description: "cli: a negative cost level",
        arguments: { dir in ["compare", "1", "--store", dir + "/runs.sqlite", "--costs", "-5"] },
        expected: ["--costs: '-5' is not a cost in bps"]),
    // Store
    BadInputCase(
        description: "store: a folder",
        arguments: { dir in ["runs", "--store", dir] }, expected: ["DIR: is a folder, not a run store file"]),
    BadInputCase(
        description: "store: read-only directory",
        arguments: { dir in
            // Root ignores directory permissions; /sys is never writable, not even for root.
            let readOnly = dir + "/ro"
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
            chmod(readOnly, 0o555)
            let target = FileManager.default.createFile(atPath: readOnly + "/probe", contents: nil) ? "/sys" : readOnly
            try? FileManager.default.removeItem(atPath: readOnly + "/probe")
            return try environmentCase(dir) { $0 }.map { $0 == dir + "/runs.sqlite" ? target + "/runs.sqlite" : $0 }
        }, expected: ["/", "directory is not writable"]),
    BadInputCase(
        description: "store: locked by another writer",
        arguments: { dir in
            // Held by `StoreLock` around the command (see the test); the command waits its 5 s busy timeout.
            try environmentCase(dir) { $0 }
        }, expected: ["DIR/runs.sqlite", "locked by another writer (waited 5 s)"]),
    BadInputCase(
        description: "store: corrupt database file",
        arguments: { dir in
            let args = try environmentCase(dir) { $0 }
            try Data(String(repeating: "not a database ", count: 400).utf8).write(
                to: URL(fileURLWithPath: dir + "/corrupt.sqlite"))
            return args.map { $0 == dir + "/runs.sqlite" ? dir + "/corrupt.sqlite" : $0 }
        }, expected: ["DIR/corrupt.sqlite", "file is not a database"]),
    BadInputCase(
        description: "store: full disk",
        arguments: { dir in
            // The store may grow by a few pages: the run row fits, the episodes with every step logged do not.
            var args = try environmentCase(dir) { $0.replacingOccurrences(of: "length: 252", with: "length: 60") }
            args[args.firstIndex(of: "10")!] = "400"
            return args
        }, expected: ["DIR/runs.sqlite", "database or disk is full"], environment: ["TRADESIM_MAX_PAGE_COUNT": "FULL"],
        storeMayGrow: true),
    // Checkpoints
    BadInputCase(
        description: "checkpoint: truncated file",
        arguments: { dir in
            let (id, file) = try trainedRun(dir)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
            try rerecordChecksum(of: file, store: dir + "/runs.sqlite")
            return ["evaluate", "\(id)", "--store", dir + "/runs.sqlite"]
        }, expected: ["network.safetensors", "truncated file"]),
    BadInputCase(
        description: "checkpoint: wrong tensor shape",
        arguments: { dir in
            let (id, file) = try trainedRun(dir)
            let url = URL(fileURLWithPath: file)
            let saved = try SafeTensors.File(contentsOf: url)
            let names = saved.entries.keys.sorted()
            let reshaped = try #require(
                names.first { saved.entries[$0]!.shape.count == 2 && Set(saved.entries[$0]!.shape).count == 2 })
            let tensors = try names.map { name in
                let shape = saved.entries[name]!.shape
                return SafeTensors.Tensor(
                    name: name, shape: name == reshaped ? shape.reversed() : shape,
                    values: try saved.values(name, shape: shape)[...])
            }
            try SafeTensors.write(tensors, metadata: saved.metadata, to: url)
            try rerecordChecksum(of: file, store: dir + "/runs.sqlite")
            return ["evaluate", "\(id)", "--store", dir + "/runs.sqlite"]
        }, expected: ["network.safetensors", "has shape", "expected"]),
    BadInputCase(
        description: "checkpoint: a stored agent config that a bound now refuses",
        arguments: { dir in
            let (id, _) = try trainedRun(dir)
            try RunStore(path: dir + "/runs.sqlite").pool.write { db in
                try db.execute(sql: "UPDATE run SET configJSON = json_set(configJSON, '$.agent.numEnvs', 100000000)")
            }
            return ["evaluate", "\(id)", "--store", dir + "/runs.sqlite"]
        }, expected: ["run ppo__ppo-lstm__5__", "numEnvs must be at most 1024, not 100000000"]),
    BadInputCase(
        description: "checkpoint: checksum mismatch",
        arguments: { dir in
            let (id, file) = try trainedRun(dir)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            bytes[bytes.count - 1] ^= 0xff
            try bytes.write(to: URL(fileURLWithPath: file))
            return ["evaluate", "\(id)", "--store", dir + "/runs.sqlite"]
        }, expected: ["network.safetensors", "checksum mismatch"]),
]

/// Records the current SHA-256 of `file` in the store, as if the damaged file had been written that way (so the loader,
/// not the checksum, must catch it).
func rerecordChecksum(of file: String, store path: String) throws {
    let store = try RunStore(path: path)
    let digest = try sha256Hex(ofFile: file)
    try store.pool.write { db in
        try db.execute(
            sql: "UPDATE checkpoint SET sha256 = ? WHERE file = ?", arguments: [digest, store.recordedPath(file)])
    }
}

/// What the matrix compares before and after a command: integrity, and rows per table and run status.
struct StoreSnapshot: Equatable {
    var integrity: String
    var counts: [String: Int]
    var statuses: [String]

    init(_ path: String) throws {
        let store = try RunStore(path: path)
        integrity = try store.integrityCheck()
        counts = [:]
        for table in ["run", "episode", "step", "trade", "metric", "checkpoint"] {
            counts[table] = try store.backend.read { db in try db.count("SELECT COUNT(*) FROM \(table)") }
        }
        statuses = try store.runs().map { "\($0.id!):\($0.status.rawValue)" }
    }
}

/// A store with one run and two episodes, written in-process.
func seededStore(_ path: String) throws {
    let store = try RunStore(path: path)
    let run = try store.createRun(
        experiment: "matrix", agent: "dqn", seed: 1, experimentYAML: "", configJSON: "{}",
        configHash: "0", codeVersion: "test")
    for i in 0..<2 {
        let steps = (0..<50).map { k in
            StepRecord(
                barIndex: Int64(k), timestamp: Int64(k) * 86_400, action: 1, position: 1, fillPrice: 100, reward: 0.001,
                equity: 100_000, cost: 0)
        }
        try store.writeEpisode(
            EpisodeRecord(
                runId: run.id!, split: .train, index: Int64(i), firstTimestamp: 0,
                lastTimestamp: 49 * 86_400, steps: 50, totalReward: 0.05, finalEquity: 100_000,
                costs: 0, globalStep: Int64(50 * (i + 1)), actionsHash: "0"), steps: steps)
    }
}

@Test(arguments: badInputCases)
func badInputGivesOneErrorLineAndKeepsTheStore(_ c: BadInputCase) throws {
    let dir = try temporaryDirectory()
    let store = dir + "/runs.sqlite"
    try seededStore(store)
    let args = try c.arguments(dir)
    var environment = c.environment
    if environment["TRADESIM_MAX_PAGE_COUNT"] == "FULL" {
        let pages = try RunStore(path: store).pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count")! }
        environment["TRADESIM_MAX_PAGE_COUNT"] = "\(pages + 12)"
    }
    try expectOneErrorLineAndAKeptStore(
        c, args, store: store, dir: dir, environment: environment,
        lock: c.description.hasPrefix("store: locked"))
}

/// The matrix on a PostgreSQL store: every case that uses the store `DIR/runs.sqlite` as it is (not the cases about
/// a SQLite file), with that store copied into a schema of its own once the case is set up.
@Test(
    .enabled(if: StoreKind.all.contains(.postgres)),
    arguments: badInputCases.filter { !$0.description.hasPrefix("store:") && $0.description != "cli: missing store" })
func badInputOnPostgreSQLGivesOneErrorLineAndKeepsTheStore(_ c: BadInputCase) throws {
    let dir = try temporaryDirectory()
    let sqlite = dir + "/runs.sqlite"
    try seededStore(sqlite)
    let args = try c.arguments(dir)
    let url = try #require(postgresTestStore("matrix"))
    defer { dropPostgresTestStore(url) }
    _ = try RunStore(path: url).copy(from: RunStore(path: sqlite))
    var pointed = c
    pointed.expected = c.expected.map { $0.replacingOccurrences(of: "DIR/runs.sqlite", with: url) }
    try expectOneErrorLineAndAKeptStore(
        pointed, args.map { $0 == sqlite ? url : $0 }, store: url, dir: dir,
        environment: c.environment, lock: false)
}

/// Runs a case's command on `store` (holding its write lock meanwhile when `lock`) and checks the failure: one error
/// line, the last, with the expected parts, and a store that is unchanged (or consistent, for a mid-run failure).
func expectOneErrorLineAndAKeptStore(
    _ c: BadInputCase, _ args: [String], store: String, dir: String,
    environment: [String: String], lock: Bool
) throws {
    let before = try StoreSnapshot(store)
    let held = lock ? try StoreLock(store) : nil
    let r = try runCLI(args, environment: environment)
    try held?.release()

    #expect(r.status != 0 && !r.killedBySignal, "\(r.stdout)")
    // Training progress may come first on stderr; the failure is one error line, the last.
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    for part in c.expected {
        #expect(r.stderr.contains(part.replacingOccurrences(of: "DIR", with: dir)), "\(part) not in: \(r.stderr)")
    }
    let after = try StoreSnapshot(store)
    #expect(after.integrity == "ok")
    if c.storeMayGrow {
        // Earlier rows untouched, every episode whole: no step without its episode, no episode of a failed write.
        for (table, n) in before.counts { #expect(after.counts[table]! >= n, "\(table)") }
        #expect(Array(after.statuses.prefix(before.statuses.count)) == before.statuses)
        let orphans = try RunStore(path: store).backend.read { db in
            try db.count("SELECT COUNT(*) FROM step WHERE episodeId NOT IN (SELECT id FROM episode)")
        }
        #expect(orphans == 0)
    } else {
        #expect(after == before)
    }
}

/// Holds the write lock of a store from this process (a write transaction kept open) until `release`.
final class StoreLock: @unchecked Sendable {
    private let holding = DispatchSemaphore(value: 0), releasing = DispatchSemaphore(value: 0),
        done = DispatchSemaphore(value: 0)
    private let store: RunStore

    init(_ path: String) throws {
        store = try RunStore(path: path)
        DispatchQueue.global().async { [self] in
            try? store.pool.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                holding.signal()
                releasing.wait()
                try db.execute(sql: "ROLLBACK")
            }
            done.signal()
        }
        holding.wait()
    }

    func release() throws {
        releasing.signal()
        done.wait()
    }
}
