import Foundation
import MarketData
import Testing
import Yams

@testable import Experiments
@testable import RunStore
@testable import Sweeps

/// A tiny walk-forward DQN sweep on the S&P 500 (train and validation years 1999–2012): windows of 4 train, 2
/// validation and 2 test years, moved on by 3.
func walkForwardExperiment(seeds: String = "[1]", warmStart: Bool = true) throws -> (
    dir: String, experiment: String, store: String
) {
    try sweepExperiment(
        grid: "    agent.gamma: [0.99]", seeds: seeds, steps: 200,
        extra: """
            walkForward: {trainYears: 4, validationYears: 2, testYears: 2, stepYears: 3, warmStart: \(warmStart)}
            """)
}

/// The windows lie inside the environment's train and validation years (its test years are never used); each
/// window is a trial per configuration and seed, evaluated on its validation and test years; with warm start a
/// window starts from the previous window of the same configuration and seed.
@Test func walkForwardTrialsFollowTheWindows() throws {
    let t = try walkForwardExperiment(seeds: "[1, 2]")
    let plan = try SweepPlan(experimentPath: t.experiment)
    #expect(plan.windows.map(\.train) == [[1999, 2002], [2002, 2005], [2005, 2008]])
    #expect(plan.windows.map(\.validation) == [[2003, 2004], [2006, 2007], [2009, 2010]])
    #expect(plan.windows.map(\.test) == [[2005, 2006], [2008, 2009], [2011, 2012]])
    #expect(plan.trials.map(\.window) == [0, 0, 1, 1, 2, 2] && plan.trials.map(\.seed) == [1, 2, 1, 2, 1, 2])
    #expect(plan.trials.map(\.after) == [nil, nil, 0, 1, 2, 3])
    #expect(
        plan.trials[2].assignmentsJSON.contains(
            #"["environment.data.splits","{train: [2002, 2005], validation: [2006, 2007], test: [2008, 2009]}"]"#))
    #expect(plan.trials[2].assignmentsJSON.contains(#"["evaluateOn","[validation, test]"]"#))
    // what the window sets is not the configuration's: a label leaves it out
    #expect(describeAssignments(plan.trials[2].assignmentsJSON, keepingWindows: false) == "agent.gamma=0.99")
    #expect(describeAssignments(plan.trials[2].assignmentsJSON, keepingWindows: true).contains("evaluateOn="))
    #expect(
        try SweepPlan(experimentPath: try walkForwardExperiment(warmStart: false).experiment).trials.allSatisfy {
            $0.after == nil
        })
}

/// Each window's normaliser is a fit on its train years alone, and perturbing the bars after a window's train years
/// changes nothing the window trains on (its train observations and normaliser); `audit` passes every window.
@Test func windowsTrainOnTheirOwnYearsAlone() throws {
    let t = try walkForwardExperiment()
    let windows = try auditExperiment(t.experiment, cuts: 4, seed: 1)
    #expect(windows.count == 3 && windows.allSatisfy { $0.checks.allSatisfy { $0.outcome != .fail } })

    // The S&P 500 file with every bar after 2002 (the first window's last train year) scaled up by 30%.
    let csv = try String(contentsOfFile: repoRoot + "/data/sp500_1999_2018_arch.csv", encoding: .utf8)
    var lines = csv.components(separatedBy: "\r\n")
    for i in 1..<lines.count where !lines[i].isEmpty {
        var f = lines[i].split(separator: ",").map(String.init)
        guard Int(f[0].split(separator: "/")[2])! > 2002 else { continue }
        for k in 1...5 { f[k] = String(Double(f[k])! * 1.3) }
        lines[i] = f.joined(separator: ",")
    }
    let perturbed = t.dir + "/perturbed.csv"
    try lines.joined(separator: "\r\n").write(toFile: perturbed, atomically: true, encoding: .utf8)

    let window = try SweepPlan(experimentPath: t.experiment).windows[0]
    func setup(file: String?) throws -> MarketSetup {
        var assignments: [(path: String, value: Node)] = [("environment.data.splits", splitsNode(window))]
        if let file { assignments.append(("environment.data.file", Node(file))) }
        let e = try Experiment.load(t.experiment, assignments: assignments)
        return try MarketSetup(path: e.environmentPath, overrides: e.environmentOverrides)
    }
    let original = try setup(file: nil), changed = try setup(file: perturbed)
    let (a, b) = (original.dataset.normaliser, changed.dataset.normaliser)  // names differ: the file name is the ticker
    #expect(a.mean == b.mean && a.std == b.std && a.fittedRows == b.fittedRows)
    let train = original.bars(of: .train), width = original.dataset.observations.width
    let rows = (train.lowerBound * width)..<(train.upperBound * width)
    #expect(Array(original.dataset.observations.values[rows]) == Array(changed.dataset.observations.values[rows]))
    // A fit on the window's train years alone: the data cut after them, all of it train.
    let cut = try Experiment.load(
        t.experiment,
        assignments: [
            ("environment.data.splits", splitsNode(SplitConfig(train: window.train, validation: [], test: []))),
            ("environment.data.end", Node("2002-12-31")),
        ])
    #expect(
        try MarketSetup(path: cut.environmentPath, overrides: cut.environmentOverrides).dataset.normaliser
            == original.dataset.normaliser)
}

/// The stitched out-of-sample equity of a walk-forward configuration is the product of its windows' test equities
/// (the capital carried from one window to the next), and the baselines are stitched over the same years.
@Test func stitchedEquityIsTheProductOfTheWindows() throws {
    let t = try walkForwardExperiment()
    let r = try runCLI(["sweep", t.experiment, "--jobs", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    let store = try RunStore(path: t.store)
    let comparison = try stitchedComparison(
        "sw", store: store, request: CompareRequest(period: .split(.test), resamples: 10))
    let trials = try store.trials(sweepId: try store.sweep(named: "sw").id!)
    var product = 1.0
    for trial in trials {
        let test = try #require(try store.episodes(runId: trial.runId!, split: .test).last)
        product *= test.finalEquity / 100_000
    }
    let track = try #require(comparison.episodes[0].first { $0.policy.isAgent })
    #expect(abs(track.log.finalEquity / track.log.initialEquity - product) < 1e-12 * product)
    #expect(
        track.log.length
            == trials.reduce(0) { $0 + Int(try! store.episodes(runId: $1.runId!, split: .test).last!.steps) })
    #expect(comparison.costs.hasPrefix("as in ") && comparison.costs.contains(" of the range, borrow "))
    let years = comparison.tables.map(\.period)
    #expect(years == ["2005", "2006", "2008", "2009", "2011", "2012", "overall"])
    let buyAndHold = try #require(comparison.episodes[0].first { $0.policy.name == "buyAndHold" })
    #expect(
        buyAndHold.log.length == track.log.length
            && buyAndHold.log.steps.first?.timestamp == track.log.steps.first?.timestamp)
    // compare --sweep prints the same.
    let printed = try runCLI(["compare", "--sweep", "sw", "--store", t.store])
    #expect(printed.status == 0 && printed.stdout.contains("test years of 3 walk-forward windows"), "\(printed.stderr)")
}
