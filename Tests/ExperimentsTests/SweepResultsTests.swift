import Agents
import Foundation
import MarketData
import Testing

@testable import Experiments
@testable import RunStore
@testable import Sweeps

/// `sweep results`: configurations ranked by their mean validation Sharpe over seeds (recomputed here from the stored
/// episodes), the DSR's N counting exactly this sweep's tracks and the store's other runs on the same years of the
/// same data (not a run on other years), the PBO over the configurations, and the test split looked at once.
@Test func sweepResultsRankSelectAndCountTrials() throws {
    let t = try sweepExperiment(grid: "    agent.learningRate: [1.0e-4, 1.0e-3]", steps: 200)
    #expect(try runCLI(["sweep", t.experiment, "--jobs", "2"]).status == 0)
    // Two more runs in the store: one on the same validation years and data (a trial), one on other years (not).
    let other = try tinyExperiment(steps: 100)
    let otherYears = try String(contentsOfFile: other.experiment, encoding: .utf8)
        .replacingOccurrences(
            of: "market: {window: 8",
            with: "data: {splits: {train: [1999, 2008], validation: [2009, 2010], test: []}}\n    market: {window: 8")
    try otherYears.write(toFile: other.dir + "/years.yaml", atomically: true, encoding: .utf8)
    #expect(try runCLI(["train", other.experiment, "--store", t.store]).status == 0)
    #expect(try runCLI(["train", other.dir + "/years.yaml", "--store", t.store]).status == 0)

    let store = try RunStore(path: t.store)
    let results = try SweepResults("sw", store: store, blocks: 4)
    let trials = try store.trials(sweepId: try store.sweep(named: "sw").id!)
    var means: [Int: Double] = [:]
    for c in [0, 1] {
        let sharpes = try trials.filter { $0.configuration == c }.map {
            try StoredEvaluation(try store.run(id: $0.runId!), split: .validation, store: store).metrics.sharpe!
        }
        means[c] = sharpes.reduce(0, +) / Double(sharpes.count)
    }
    #expect(results.ranking.map(\.configuration) == [0, 1].sorted { means[$0]! > means[$1]! })
    #expect(abs(results.ranking[0].metric.mean! - means[results.selected]!) < 1e-12)
    // A seed whose policy held no position has no Sharpe ratio; the table counts it as flat.
    for r in results.ranking {
        let returns = try trials.filter { $0.configuration == r.configuration }.map {
            try StoredEvaluation(try store.run(id: $0.runId!), split: .validation, store: store).returns
        }
        #expect(r.sharpe.flat == returns.filter { $0.allSatisfy { $0 == 0 } }.count && r.sharpe.runs == 2)
    }
    #expect(results.dsr.sweepTrials == 4 && results.dsr.trials == 5)
    let o = try #require(results.overfitting)
    #expect(o.combinations == 6 && o.trials == 2 && o.pbo >= 0 && o.pbo <= 1)

    let json = try runCLI(["sweep", "results", "sw", "--store", t.store, "--blocks", "4", "--format", "json"])
    #expect(json.status == 0, "\(json.stderr)")
    let decoded = try JSONDecoder().decode(SweepResults.self, from: Data(json.stdout.utf8))
    #expect(decoded.selected == results.selected && decoded.dsr.trials == 5)
    #expect(decoded.barsPerYear == 252)
    // the validation bars as compare names them: the closes their returns run from and to
    let compared = try runCLI(["compare", "\(trials[0].runId!)", "--store", t.store, "--format", "json"])
    let bars = try #require(try JSONDecoder().decode(Comparison.self, from: Data(compared.stdout.utf8)).bars)
    let span = "from the close of \(results.firstDate) to the close of \(results.lastDate)"
    #expect(bars.contains(span), "\(bars) vs \(span)")
    #expect(
        results.summaryLines[0].hasPrefix("validation bars: \(results.bars), " + span), "\(results.summaryLines[0])")
    // CSV: numbers in columns of their own, as compare's
    let csv = try runCLI(["sweep", "results", "sw", "--store", t.store, "--blocks", "4", "--format", "csv"])
    let lines = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    #expect(
        lines.first == ["rank", "config", "keys", "runs", "sharpe_mean", "sharpe_std", "sharpe_count", "sharpe_flat"])
    #expect(
        lines.count == 3 && lines[1][1] == "\(results.selected)"
            && Double(lines[1][4]) == results.ranking[0].metric.mean)
    #expect(Double(lines[1][5]) == results.ranking[0].metric.std && lines[1][6] == "\(results.ranking[0].metric.count)")

    // The test split: once, for the selected configuration; another needs --unselected.
    let unselected = 1 - results.selected
    let refused = try runCLI([
        "sweep", "results", "sw", "--store", t.store, "--blocks", "4", "--test",
        "--configuration", "\(unselected)",
    ])
    #expect(refused.failsWithOneErrorLine && refused.stderr.contains("needs --unselected"), "\(refused.stderr)")
    // a configuration the sweep does not have is refused before the ranking is printed
    let missing = try runCLI([
        "sweep", "results", "sw", "--store", t.store, "--test", "--configuration", "9", "--unselected",
    ])
    #expect(
        missing.failsWithOneErrorLine && missing.stderr.contains("--configuration 9: sweep sw has configurations 0…1"))
    #expect(missing.stdout.isEmpty && refused.stdout.isEmpty, "\(missing.stdout)")
    func testEpisodes() throws -> Int {
        try trials.reduce(0) { $0 + (try store.episodes(runId: $1.runId!, split: .test).count) }
    }
    #expect(try testEpisodes() == 0)
    let look = try runCLI(["sweep", "results", "sw", "--store", t.store, "--blocks", "4", "--test"])
    #expect(look.status == 0 && look.stdout.contains("test split, greedy policy vs baselines"), "\(look.stderr)")
    #expect(try testEpisodes() == 2)
    #expect(!look.stdout.contains("looked at before"), "\(look.stdout)")
    let again = try runCLI(["sweep", "results", "sw", "--store", t.store, "--blocks", "4", "--test"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(
        again.stdout.contains(
            "the test split was looked at before for 2 of these 2 runs: their recorded episodes are shown, not a new look"
        ),
        "\(again.stdout)")
    #expect(try testEpisodes() == 2)  // looked at once
    let second = try runCLI([
        "sweep", "results", "sw", "--store", t.store, "--blocks", "4", "--test",
        "--configuration", "\(unselected)", "--unselected",
    ])
    #expect(second.status == 0 && second.stdout.contains("N = 4"), "\(second.stdout)")  // the earlier look counts
    #expect(try testEpisodes() == 4)
}

/// A warm start loads a checkpoint's network weights (every network: a DQN's target too) and nothing else.
@Test func warmStartLoadsTheWeights() throws {
    let t = try tinyExperiment(steps: 150)
    let run = try #require(try runExperiment(try Experiment.load(t.experiment)).first?.run)
    let saved = try SavedRun(run, store: try RunStore(path: t.store))
    let trained = try saved.agent()
    let newcomer = makeAgent(saved.config.agent, spec: trained.spec, seed: 9)
    #expect(newcomer.networks[0].parameters != trained.networks[0].parameters)
    try restoreWeights(newcomer, from: saved.directory)
    #expect(
        newcomer.networks.count == 2 && newcomer.networks.allSatisfy { $0.parameters == trained.networks[0].parameters }
    )
    #expect(newcomer.stepsDone == 0 && trained.stepsDone == 150)
}

/// A seed is flat when every validation return is exactly 0; its missing Sharpe shows as flat, not as n/a.
@Test func aFlatSeedIsCountedAsFlat() {
    #expect(isFlat([0, 0, 0]) && !isFlat([0, 1e-12, 0]))
    let sharpe = Stat([nil, 0.5, 0.25], flat: [isFlat([0, 0]), isFlat([0.01, -0.01]), isFlat([0.02, 0])])
    #expect(cell(sharpe) == "0.3750 ± 0.1768 (2 of 3 seeds; 1 flat)")
}

/// Configurations whose validation returns are identical bar for bar (here they differ only in how often DQN logs)
/// tie: no PBO (which would be 1 by its definition, λ = 0 in every split), but a note saying so.
@Test func identicalConfigurationsHaveNoPBO() throws {
    let t = try sweepExperiment(grid: "    agent.logInterval: [100, 200]", steps: 200)
    #expect(try runCLI(["sweep", t.experiment, "--jobs", "2"]).status == 0)
    let results = try SweepResults("sw", store: try RunStore(path: t.store), blocks: 4)
    #expect(results.overfitting == nil)
    #expect(results.overfittingNote?.contains("the 2 configurations' validation returns are identical") == true)
    let text = try runCLI(["sweep", "results", "sw", "--store", t.store, "--blocks", "4"])
    #expect(text.status == 0 && text.stdout.contains("PBO: n/a (the 2 configurations'"), "\(text.stdout)")
}
