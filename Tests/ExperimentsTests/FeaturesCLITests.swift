import Foundation
import MarketData
import Testing

@testable import Experiments

/// `tradesim features`, `tradesim bench load --env`, `bench env` and `bench agent`.
@Suite struct FeaturesCLITests {
    @Test func writesTheNormalisedMatrixWithDatesAndNames() throws {
        let dir = try temporaryDirectory()
        let r = try runCLI([
            "features", "environments/sp500-vix.yaml", "--split", "validation",
            "--out", dir + "/f.csv",
        ])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
        let lines = try String(contentsOfFile: dir + "/f.csv", encoding: .utf8).split(separator: "\n")
        let setup = try MarketSetup(path: repoRoot + "/environments/sp500-vix.yaml")
        let m = setup.dataset.observations, bars = setup.bars(of: .validation)
        #expect(lines[0] == "date,split," + m.names.joined(separator: ","))
        #expect(lines.count == 1 + bars.count)
        let first = lines[1].split(separator: ",")
        #expect(first[0] == "2011-01-03" && first[1] == "validation" && first.count == 2 + m.width)
        for j in 0..<m.width { #expect(Float(first[2 + j]) == m[bars.lowerBound, j], "column \(m.names[j])") }
    }

    @Test func rawFromTheWarmupOnToStandardOutput() throws {
        let r = try runCLI(["features", "environments/sp500-vix.yaml", "--raw"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        let setup = try MarketSetup(path: repoRoot + "/environments/sp500-vix.yaml")
        let raw = setup.dataset.features
        #expect(lines.count == 1 + raw.rows - raw.warmup)
        let first = lines[1].split(separator: ",")
        #expect(first[0] == "1999-02-02" && first[1] == "train")  // bar 20: the first after the warm-up
        let level = raw.names.firstIndex(of: "VIX.level")!
        #expect(Float(first[2 + level]) == raw[raw.warmup, level])
        #expect(lines.last!.hasPrefix("2018-12-31,test,"))
    }

    @Test func badInputIsOneLine() throws {
        let dir = try temporaryDirectory()
        let missing = try runCLI(["features", "environments/nowhere.yaml", "--out", dir + "/x.csv"])
        #expect(missing.failsWithOneErrorLine && missing.stderr.contains("nowhere.yaml"), "\(missing.stderr)")
        // A folder that cannot be made (a file stands in its place).
        try "".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        let folder = try runCLI(["features", "environments/sp500-vix.yaml", "--out", dir + "/file/f.csv"])
        #expect(
            folder.failsWithOneErrorLine && folder.stderr.contains("--out \(dir)/file/f.csv"),
            "\(folder.stderr)")
        let split = try runCLI(["features", "environments/sp500-vix.yaml", "--split", "holdout"])
        #expect(split.failsWithOneErrorLine && split.stderr.contains("--split"), "\(split.stderr)")
        // a split with no years (EUR/USD has only a train split) is an error, not a header alone
        let empty = try runCLI(["features", "environments/eurusd-hourly.yaml", "--split", "validation"])
        #expect(
            empty.failsWithOneErrorLine && empty.stdout.isEmpty
                && empty.stderr.contains("eurusd-hourly.yaml: the validation split has no bars"), "\(empty.stderr)")
    }

    @Test func benchEnvStepsOneEnvironmentOrABatch() throws {
        for envs in [0, 4] {
            let r = try runCLI(["bench", "env", "--steps", "1000", "--envs", "\(envs)"])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            #expect(json["envs"] as? Int == envs && json["steps"] as? Int == 1_000 && json["bars"] as? Int == 5_031)
            #expect((json["stepsPerSecond"] as? Double ?? 0) > 0 && json["episodes"] as? Int == max(envs, 1))
        }
        let bad = try runCLI(["bench", "env", "--steps", "10", "--envs", "11"])
        #expect(bad.failsWithOneErrorLine && bad.stderr.contains("--envs"), "\(bad.stderr)")
    }

    /// DQN's updates from step 1,000, B = 64 every 4 steps, one target sync at step 1,000: from step 1,000 to 1,500
    /// the 126 updates draw 8,064 rows from 1,000 to 1,500 transitions, so most rows reuse kept target values.
    @Test func benchAgentCountsTheTargetRowsDQNEvaluates() throws {
        let r = try runCLI(["bench", "agent", "--algo", "dqn", "--steps", "1500"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let updates = json["updates"] as? Int ?? 0, evaluated = json["targetRowsEvaluated"] as? Int ?? 0
        #expect(updates == 126 && evaluated > 500 && evaluated < updates * 64 / 4, "\(evaluated) of \(updates * 64)")
        let ppo = try runCLI(["bench", "agent", "--algo", "ppo", "--steps", "1024"])
        #expect(ppo.status == 0 && !ppo.stdout.contains("targetRowsEvaluated"), "\(ppo.stderr)")
    }

    @Test func benchLoadTimesAnEnvironmentsWholeDataLoad() throws {
        let r = try runCLI([
            "bench", "load", "data/sp500_1999_2018_arch.csv",
            "--env", "environments/us-stocks-market.yaml", "--rounds", "1",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["assets"] as? Int == 20 && json["bars"] as? Int == 5797 && json["features"] as? Int == 104)
        #expect(json["warmup"] as? Int == 63 && (json["seconds"] as? Double ?? 0) > 0)
    }
}
