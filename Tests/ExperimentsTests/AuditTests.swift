import Foundation
import MarketData
import Testing

@testable import Experiments

@Suite struct AuditTests {
    @Test(arguments: [
        "environments/sp500-daily.yaml", "environments/sp500-timeframes.yaml", "environments/eurusd-hourly.yaml",
        "experiments/sp500-pretrain.yaml", "environments/sp500-vix.yaml",
        "environments/us-stocks-market.yaml",
    ])
    func shippedFilesPassTheAudit(file: String) throws {
        let r = try runCLI(["audit", file, "--cuts", "4"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 6 && lines.allSatisfy { $0.hasPrefix("PASS ") || $0.hasPrefix("SKIP ") }, "\(r.stdout)")
        #expect(lines.filter { $0.hasPrefix("PASS ") }.count >= 3)
        if file.contains("timeframes") || file.contains("hourly") { #expect(r.stdout.contains("PASS time frames")) }
        if file.contains("pretrain") { #expect(r.stdout.contains("PASS event labels")) }
        if file.contains("vix") || file.contains("market") { #expect(r.stdout.contains("PASS side series")) }
    }

    /// The audit of `environment` with a pipeline that `leak` alters after the honest one ran.
    func audit(_ environment: String, leak: @escaping (inout MarketDataset) throws -> Void) throws -> [String:
        AuditCheck.Outcome]
    {
        let setup = try MarketSetup(path: repoRoot + "/" + environment)
        let leaky: LeakageAudit.Pipeline = { panel, side, config in
            var d = try buildDataset(panel, side: side, report: LoadReport(), config: config)
            try leak(&d)
            return d
        }
        let dataset = try leaky(setup.dataset.panel, setup.dataset.side, setup.spec.data)
        var audit = LeakageAudit(dataset: dataset, config: setup.spec.data, pipeline: leaky)
        audit.cuts = 4
        return Dictionary(uniqueKeysWithValues: try audit.run().map { ($0.name, $0.outcome) })
    }

    @Test func aNormaliserFittedOnAllYearsFails() throws {
        let checks = try audit("environments/sp500-daily.yaml") { d in
            d.normaliser = try Normaliser.fit(d.features, rows: 0..<d.features.rows)
            d.observations = try d.normaliser.apply(d.features)
        }
        #expect(checks["normaliser"] == .fail)
        #expect(checks["future bars"] == .fail)  // validation / test observations move with later bars
        #expect(checks["splits"] == .pass)
    }

    @Test func aFeatureThatReadsTheNextBarFails() throws {
        let checks = try audit("environments/sp500-daily.yaml") { d in
            let w = d.features.width
            for t in 0..<(d.features.rows - 1) {
                for j in 0..<w { d.features.values[t * w + j] = d.features.values[(t + 1) * w + j] }
            }
            d.normaliser = try Normaliser.fit(d.features, rows: d.splits.train)  // fitted on the leaky features
            d.observations = try d.normaliser.apply(d.features)
        }
        #expect(checks["future bars"] == .fail)
        #expect(checks["normaliser"] == .fail)
    }

    @Test func aWeekVisibleBeforeItClosedFails() throws {
        // The weekly block of bar t taken from bar t+5: always the week t belongs to, before it has closed.
        let checks = try audit("environments/sp500-timeframes.yaml") { d in
            let w = d.features.width,
                weekly = d.features.names.indices.filter { d.features.names[$0].contains(".weekly.") }
            for t in 0..<(d.features.rows - 5) {
                for j in weekly { d.features.values[t * w + j] = d.features.values[(t + 5) * w + j] }
            }
            d.observations = try d.normaliser.apply(d.features)
        }
        #expect(checks["time frames"] == .fail)
    }

    @Test func aSideSeriesSeenBeforeItsDateFails() throws {
        // The VIX columns of bar t taken from bar t+1: the next day's VIX, known only after t's close.
        let checks = try audit("environments/sp500-vix.yaml") { d in
            let w = d.features.width, vix = d.features.names.indices.filter { d.features.names[$0].hasPrefix("VIX.") }
            for t in 0..<(d.features.rows - 1) {
                for j in vix { d.features.values[t * w + j] = d.features.values[(t + 1) * w + j] }
            }
            d.observations = try d.normaliser.apply(d.features)
        }
        #expect(checks["side series"] == .fail)
        #expect(checks["future bars"] == .fail)
        #expect(checks["splits"] == .pass)
    }

    /// A training experiment is audited as its runs see their environment (its `overrides:` laid over the file: here
    /// other splits), and a sweep once per distinct data its configurations train on (keys outside `data:` make no other
    /// audit: sp500-zhang-five.yaml differs from sp500-daily.yaml only in its market), each block labelled with the
    /// first such configuration's environment keys.
    @Test func experimentsAndSweepsAuditTheEnvironmentsTheyTrainOn() throws {
        let dir = try temporaryDirectory()
        let experiment = """
            environment: \(repoRoot)/environments/sp500-daily.yaml
            agent: \(repoRoot)/agents/dqn-lstm.yaml
            overrides:
              environment:
                data: {splits: {train: [1999, 2004], validation: [2005, 2006], test: [2007, 2008]}}

            """
        try experiment.write(toFile: dir + "/x.yaml", atomically: true, encoding: .utf8)
        let env = repoRoot + "/environments"
        let sweep =
            experiment + """
                sweep:
                  grid:
                    environment: [\(env)/sp500-daily.yaml, \(env)/sp500-zhang-five.yaml, \(env)/sp500-zhang.yaml]
                    agent.learningRate: [0.001, 0.0001]
                    environment.market.costs.commissionBps: [1, 2]

                """
        try sweep.write(toFile: dir + "/s.yaml", atomically: true, encoding: .utf8)
        let x = try runCLI(["audit", dir + "/x.yaml", "--cuts", "2"])
        #expect(x.status == 0, "\(x.stdout)\(x.stderr)")
        let lines = x.stdout.split(separator: "\n")
        #expect(lines.count == 6 && lines[0].hasPrefix("PASS splits: train 1999-01-04..2004-12-31,"), "\(x.stdout)")
        let s = try runCLI(["audit", dir + "/s.yaml", "--cuts", "2"])
        #expect(s.status == 0, "\(s.stdout)\(s.stderr)")
        let labels = s.stdout.split(separator: "\n").filter { !$0.hasPrefix("  ") }
        #expect(
            labels == [
                "environment=\(env)/sp500-daily.yaml environment.market.costs.commissionBps=1:",
                "environment=\(env)/sp500-zhang.yaml environment.market.costs.commissionBps=1:",
            ], "\(s.stdout)")
        #expect(s.stdout.components(separatedBy: "  PASS splits: train 1999-01-04..2004-12-31,").count == 3)
    }

    @Test func failingAuditExitsNonZeroAndBadFilesAreOneLine() throws {
        let r = try runCLI(["audit", "environments/nowhere.yaml"])
        #expect(r.status != 0 && r.stderrLines.count == 1 && r.stderr.contains("nowhere.yaml"), "\(r.stderr)")
        let dir = try temporaryDirectory()
        try "data:\n  file: \(repoRoot)/data/sp500_1999_2018_arch.csv\n  timeframes: [daily]\n".write(
            toFile: dir + "/e.yaml", atomically: true, encoding: .utf8)
        let t = try runCLI(["audit", dir + "/e.yaml"])
        #expect(t.status != 0 && t.stderrLines.count == 1 && t.stderr.contains("not coarser"), "\(t.stderr)")
        try "data:\n  timeframes: [yearly]\n".write(toFile: dir + "/y.yaml", atomically: true, encoding: .utf8)
        let y = try runCLI(["check-env", dir + "/y.yaml"])
        #expect(y.status != 0 && y.stderrLines.count == 1 && y.stderr.contains("timeframes"), "\(y.stderr)")
    }
}

@Test(arguments: ["environments/sp500-timeframes.yaml", "environments/eurusd-hourly.yaml"])
func timeframeEnvironmentsPassTheChecker(file: String) throws {
    let r = try runCLI(["check-env", file, "--steps", "300"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("check train: ok"))
    // Hourly bars plus daily ones (10 = 5 × 2); daily plus weekly and monthly (15 = 5 × 3).
    #expect(
        r.stdout.contains(
            file.contains("hourly")
                ? "features: 10 = 1 assets × 5 × 2 time frames" : "features: 15 = 1 assets × 5 × 3 time frames"),
        "\(r.stdout)")
}
