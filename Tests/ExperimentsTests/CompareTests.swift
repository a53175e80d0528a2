import Agents
import Foundation
import MarketData
import RunStore
import Testing
import TradingEnv

@testable import Experiments

/// The baselines a one-asset comparison shows (the panel-only ones drop out).
let singleAssetBaselines = Baseline.allCases.filter { $0 != .random && $0.applies(toAssets: 1) }

/// A steadily rising market (+0.3% then +0.1% a bar): buy-and-hold must beat flat; an always-long policy must equal
/// buy-and-hold but for where the first commission sits; always-short must lose.
@Test func compareTableOnARisingMarketHasTheKnownWinner() throws {
    let setup = try MarketSetup(path: try syntheticMarket(up: 1.003, down: 1.001, commissionBps: 10))
    let c = try compare(
        [
            fixedWeight(1, name: "long", group: "test/long #1", setup: setup),
            fixedWeight(-1, name: "short", group: "test/short #2", setup: setup),
        ],
        reference: setup, request: CompareRequest(period: .split(.validation), resamples: 50))
    #expect(c.tables.map(\.period) == ["2020", "overall"])
    let overall = try #require(c.tables.last)
    func total(_ p: String) throws -> Double {
        try #require(overall.rows.first { $0.policy == p }?.stats["totalReturn"]?.mean)
    }
    #expect(
        overall.rows.map(\.policy) == ["test/long #1", "test/short #2"] + comparedBaselines(for: setup).map(\.rawValue))
    #expect(try total("buyAndHold") > 0.2)
    #expect(try total("flat") == 0)
    // Buy-and-hold buys once and owes its first commission as cash (−10 bps of equity) for good; always-long re-targets
    // weight 1 every bar, so it sells the shares that commission is short of and rides the market with 10 bps less:
    // on a rising market it ends 10 bps × (the market's return) behind.
    let (long, held) = (try total("test/long #1"), try total("buyAndHold"))
    #expect(abs((held - long) - 10e-4 * held) < 2e-5, "\(long) vs \(held)")
    #expect(try total("test/short #2") < 0)
    // the 2020 table is the whole validation year, so it equals the overall one
    #expect(c.tables[0].rows.map { $0.stats["sharpe"]?.mean } == overall.rows.map { $0.stats["sharpe"]?.mean })
    // zero cost: buy-and-hold's return is the price ratio from the first fill (the next open) to the last close
    let free = try compare(
        [], reference: setup, request: CompareRequest(period: .split(.validation), costLevels: [0], resamples: 10))
    let env = try setup.environment(.validation)
    let p = setup.dataset.panel
    let bh = try #require(free.tables.last?.rows.first { $0.policy == "buyAndHold" }?.stats["totalReturn"]?.mean)
    #expect(abs(bh - (p.close[env.lastBar] / p.open[env.firstBar + 1] - 1)) < 1e-12)
}

@Test func groupsShowMeanAndSampleStdOverTheirRuns() throws {
    #expect(Stat([1, 2, 4]).mean == 7.0 / 3)
    #expect(abs(Stat([1, 2, 4]).std! - (7.0 / 3).squareRoot()) < 1e-15)
    #expect(Stat([5]).std == nil && Stat([nil, 3]).count == 1)

    let setup = try MarketSetup(path: try syntheticMarket(up: 1.004, down: 0.999))
    let c = try compare(
        [
            fixedWeight(1, name: "s1", setup: setup), fixedWeight(0.5, name: "s2", setup: setup),
            fixedWeight(0, name: "s3", setup: setup),
        ],
        reference: setup, request: CompareRequest(period: .split(.validation), resamples: 10))
    let row = try #require(c.tables.last?.rows.first)
    #expect(row.runs == ["s1", "s2", "s3"] && row.kind == "agent")
    let r = row.results.map(\.metrics.totalReturn)
    #expect(r[2] == 0 && r[0] > r[1] && r[1] > 0)
    let bh = try #require(c.tables.last?.rows.first { $0.policy == "buyAndHold" }?.stats["totalReturn"]?.mean)
    #expect(r[0] == bh)
    let mean = (r[0] + r[1] + r[2]) / 3
    let std = (((r[0] - mean) * (r[0] - mean) + (r[1] - mean) * (r[1] - mean) + (r[2] - mean) * (r[2] - mean)) / 2)
        .squareRoot()
    #expect(abs(row.stats["totalReturn"]!.mean! - mean) < 1e-15)
    #expect(abs(row.stats["totalReturn"]!.std! - std) < 1e-15)
    #expect(c.tables.last!.table.plain.contains(String(format: "%.4f ± %.4f", mean, std)))
}

@Test func dsrCountsTheRunsOfTheStoreEvaluatedOnTheSameYearsOfTheSameData() throws {
    let store = try RunStore(path: try temporaryDirectory() + "/runs.sqlite")
    /// A run of data `sha` whose validation split is `validation` and test split 2021, with episodes on `splits`.
    func run(
        _ name: String, splits: [EpisodeSplit], sha: String = "F", validation: [Int] = [2020, 2020],
        tickers: [String] = [], sharpe: Double? = nil, repeating: String? = nil
    ) throws -> Int64 {
        var environment = EnvironmentSpec()
        environment.data.splits = SplitConfig(train: [2019, 2019], validation: validation, test: [2021, 2021])
        environment.data.tickers = tickers
        let config = ResolvedConfig(
            experiment: ExperimentSpec(), environment: environment, environmentFolder: "/none",
            agent: .dqn(DQNConfig()), seed: 1, dataSHA256: sha)
        let r = try store.createRun(
            experiment: name, agent: "a", seed: 1, experimentYAML: "", configJSON: try config.json(),
            configHash: repeating ?? name, codeVersion: "t")
        for (i, s) in splits.enumerated() {
            _ = try store.writeEpisode(
                EpisodeRecord(
                    runId: r.id!, split: s, index: 0, firstTimestamp: 0, lastTimestamp: 0, steps: 0,
                    totalReward: 0, finalEquity: 1, costs: 0, globalStep: Int64(i), actionsHash: ""), steps: [])
        }
        if let sharpe {
            try store.appendMetrics([
                MetricRecord(runId: r.id!, globalStep: 10, key: "eval/validation/sharpe", value: 99),
                MetricRecord(runId: r.id!, globalStep: 20, key: "eval/validation/sharpe", value: sharpe),
            ])
        }
        return r.id!
    }
    _ = try run("a", splits: [.train, .validation], sharpe: 0.3)
    let a = try run("a again", splits: [.train, .validation], repeating: "a")  // the same trial: the later counts
    let b = try run("b", splits: [.validation, .validation], sharpe: 0.8)
    let c = try run("c", splits: [.train, .test])
    _ = try run("other data", splits: [.validation], sha: "G")
    _ = try run("other tickers", splits: [.validation], tickers: ["AAPL"])
    let wider = try run("other years", splits: [.validation], validation: [2019, 2020])
    _ = try run("not evaluated", splits: [.train])
    // the stored Sharpe ratios are annualised with the data's bars a year (52: weekly bars)
    let onValidation = try storedTrials(store: store, fingerprint: "F ", years: [2020], barsPerYear: 52)
    #expect(onValidation.map(\.runId) == [a, b])
    #expect(onValidation.map(\.sharpePerBar) == [nil, 0.8 / 52.0.squareRoot()])
    #expect(try storedTrials(store: store, fingerprint: "F ", years: [2021], barsPerYear: 252).map(\.runId) == [c])
    #expect(try storedTrials(store: store, fingerprint: nil, years: [2020], barsPerYear: 252).isEmpty)
    // chosen years (`compare --years`) count every run evaluated on a split holding one of them
    #expect(
        try storedTrials(store: store, fingerprint: "F ", years: [2020], overlapping: true, barsPerYear: 252).map(
            \.runId) == [
                a, b, wider,
            ])
    #expect(try storedTrials(store: store, fingerprint: "F ", years: [2019], barsPerYear: 252).isEmpty)
    #expect(
        try storedTrials(store: store, fingerprint: "F ", years: [2019], overlapping: true, barsPerYear: 252).map(
            \.runId) == [wider])
    #expect(
        try storedTrials(store: store, fingerprint: "F ", years: [2018, 2021], overlapping: true, barsPerYear: 252).map(
            \.runId) == [c])

    // the compared runs (a and one not yet in the store) and the stored-only trial b: N = 3
    let setup = try MarketSetup(path: try syntheticMarket(up: 1.01, down: 0.995))
    let stored = [
        StoredTrial(runId: a, sharpePerBar: nil), StoredTrial(runId: b, sharpePerBar: 0.8 / 252.0.squareRoot()),
    ]
    let comparison = try compare(
        [
            fixedWeight(1, name: "a", group: "g #1", runId: a, setup: setup),
            fixedWeight(0.5, name: "new", group: "g #2", runId: 999, setup: setup),
        ],
        reference: setup, request: CompareRequest(period: .split(.validation), resamples: 10), storedTrials: stored)
    #expect(comparison.trials == 3)
    let overall = try #require(comparison.tables.last)
    let sharpes = overall.rows.prefix(2).map { $0.results[0].metrics.sharpePerBar! } + [0.8 / 252.0.squareRoot()]
    let v = try #require(Stat(sharpes).std.map { $0 * $0 })
    #expect(abs(overall.sharpeVariance! - v) < 1e-15)
    let first = overall.rows[0].results[0]
    #expect(first.dsr == deflatedSharpe(first.metrics, trials: 3, sharpeVariance: v))
    #expect(first.dsr! < first.metrics.psr!)  // deflation lowers it
    #expect(overall.rows.first { $0.kind == "baseline" }?.results[0].dsr == nil)
}

/// A zig-zag market (+1.2%, −1.0%): a policy that knows the next bar flips long/short every bar and earns ~1.1% a bar
/// gross while turning over 2× its equity, so its edge over buy-and-hold must shrink with every cost level and vanish
/// between 50 and 100 bps (2 × c ≈ 1.1% at c ≈ 55 bps).
@Test func costSweepIsMonotoneAndFindsWhereTheEdgeDisappears() throws {
    let setup = try MarketSetup(path: try syntheticMarket(up: 1.012, down: 0.99))
    let levels = [0.0, 20, 50, 100, 200]
    let c = try compare(
        [oracle(setup: setup)], reference: setup,
        request: CompareRequest(period: .split(.validation), costLevels: levels, resamples: 10))
    let overall = c.tables.filter { $0.period == "overall" }
    #expect(overall.map(\.costBps) == levels)
    let oracleReturns = overall.map { $0.rows[0].results[0].metrics.totalReturn }
    let bhReturns = overall.map { $0.rows.first { $0.policy == "buyAndHold" }!.results[0].metrics.totalReturn }
    #expect(zip(oracleReturns, oracleReturns.dropFirst()).allSatisfy { $0 > $1 })
    #expect(zip(bhReturns, bhReturns.dropFirst()).allSatisfy { $0 > $1 })
    let flat = overall.map { $0.rows.first { $0.policy == "flat" }!.results[0].metrics.totalReturn }
    #expect(flat.allSatisfy { $0 == 0 })
    #expect(c.edges.map(\.versus) == ["best baseline"] + singleAssetBaselines.map(\.rawValue))
    // The best baseline at each level is the one with the highest Sharpe there: the smallest edge.
    for k in levels.indices {
        #expect(c.edges[0].edge[k] == c.edges.dropFirst().compactMap { $0.edge[k] }.min())
    }
    let edge = c.edges[1]
    #expect(edge.policy == "test/oracle #11111111" && edge.versus == "buyAndHold")
    let e = edge.edge.map { $0! }
    #expect(zip(e, e.dropFirst()).allSatisfy { $0 > $1 })
    #expect(e[2] > 0 && e[3] < 0)
    let breakEven = try #require(edge.breakEvenBps)
    #expect(breakEven > 50 && breakEven < 100)
    #expect(edge.verdict.contains("gone at 100 bps"))
    #expect(c.costs.contains("commission = the level"))
}

/// The header names every cost term as configured, and under a sweep the rule and the borrow fee it keeps.
@Test func costsDescriptionNamesEveryTerm() {
    let base = CostModel(
        commissionBps: 5, halfSpreadBps: 2, slippageBps: 1, slippageRangeFraction: 0.25, borrowBpsPerYear: 30)
    #expect(
        costsDescription(base, path: "environments/x.yaml", swept: false)
            == "as in environments/x.yaml: commission 5.0 bps, half-spread 2.0 bps, slippage 1.0 bps + 0.25 of the "
            + "range, borrow 30.0 bps/year")
    #expect(
        costsDescription(base, path: "environments/x.yaml", swept: true)
            == "sweep: commission = the level in bps, no spread or slippage, borrow 30.0 bps/year (environments/x.yaml)"
    )
}

@Test func everyOutputFormatParses() throws {
    let setup = try MarketSetup(path: try syntheticMarket(up: 1.004, down: 0.999, commissionBps: 5))
    let c = try compare(
        [fixedWeight(1, name: "s1", setup: setup), fixedWeight(0.5, name: "s2", setup: setup)], reference: setup,
        request: CompareRequest(period: .years([2020, 2021]), costLevels: [0, 10], resamples: 10))
    #expect(c.tables.map(\.period) == ["2020", "2021", "overall", "2020", "2021", "overall"])

    let json = try c.rendered(.json)
    let decoded = try JSONDecoder().decode(Comparison.self, from: Data(json.utf8))
    #expect(decoded.tables.count == 6 && decoded.trials == 2 && decoded.edges.count == 1 + singleAssetBaselines.count)
    #expect(decoded.tables[2].rows[0].stats["sharpe"] == c.tables[2].rows[0].stats["sharpe"])

    let csv = try c.rendered(.csv).split(separator: "\n").map {
        $0.split(separator: ",", omittingEmptySubsequences: false)
    }
    let header = csv[0].map(String.init)
    #expect(header.prefix(7) == ["period", "cost_bps", "policy", "kind", "config_hash", "runs", "trials"])
    #expect(header.contains("sharpe_mean") && header.contains("dsr_std") && header.last == "sharpe_ci95_high")
    #expect(header.count == 7 + 2 * headlineMetrics.count + 2)
    #expect(csv.count == 1 + 6 * (1 + singleAssetBaselines.count))
    #expect(csv.dropFirst().allSatisfy { $0.count == header.count })
    #expect(csv[1][0] == "2020" && csv[1][1] == "0.0" && csv[1][5] == "s1 s2")

    let markdown = try c.rendered(.markdown)
    #expect(markdown.contains("## overall, costs 10 bps") && markdown.contains("| policy | runs | total return |"))
    let text = try c.rendered(.table)
    #expect(text.contains("2021, costs 0 bps") && text.contains("Sharpe edge over the baselines"))
}

/// A seed without a value is shown, never dropped: how many seeds the mean covers and why the others have none.
@Test func cellsSayWhichSeedsHaveNoValue() {
    #expect(cell(Stat([-0.44, nil], flat: [false, true])) == "-0.4400 (1 of 2 seeds; 1 flat)")
    #expect(cell(Stat([0.5, 0.7, nil], flat: [false, false, false])) == "0.6000 ± 0.1414 (2 of 3 seeds; 1 n/a)")
    #expect(cell(Stat([nil, nil], flat: [true, false])) == "n/a (0 of 2 seeds; 1 flat, 1 n/a)")
    #expect(cell(Stat([nil], flat: [true])) == "n/a (flat)")
    #expect(cell(Stat([0.25, 0.75])) == "0.5000 ± 0.3536")
}

@Test func seedlessConfigHashGroupsTheSeedsOfOneConfiguration() {
    let a = #"{"agent":{"lr":1},"experiment":{"seeds":[1],"steps":5},"seed":1}"#
    let b = #"{"agent":{"lr":1},"experiment":{"seeds":[2],"steps":5},"seed":2}"#
    let c = #"{"agent":{"lr":2},"experiment":{"seeds":[1],"steps":5},"seed":1}"#
    #expect(seedlessConfigHash(a) == seedlessConfigHash(b))
    #expect(seedlessConfigHash(a) != seedlessConfigHash(c))
}

/// A run repeated with the same configuration and seed (the same bits) is one seed of its row and one DSR trial.
@Test func compareCountsARepeatedRunOnce() throws {
    let (dir, experiment, store) = try tinyExperiment(steps: 100)
    for _ in 0..<2 { #expect(try runCLI(["train", experiment], in: dir).status == 0) }
    let r = try runCLI(["compare", "--experiment", experiment, "--store", store, "--format", "json"], in: dir)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("1 of its 2 runs repeats a later run's configuration and seed"), "\(r.stderr)")
    let c = try JSONDecoder().decode(Comparison.self, from: Data(r.stdout.utf8))
    let runs = try RunStore(path: store).runs().sorted { $0.id! < $1.id! }
    #expect(c.trials == 1)
    #expect(c.tables.last?.rows.first?.runs == [runs[1].name])
}

/// The CLI end to end on a tiny trained run: compare in every format, report, and one-line errors naming the value.
@Test func compareAndReportCommandsOnATrainedRun() throws {
    let (dir, experiment, store) = try tinyExperiment(steps: 200)
    let trained = try runCLI(["train", experiment], in: dir)
    #expect(trained.status == 0, "\(trained.stderr)")
    let run = try #require(try RunStore(path: store).runs().first)

    let json = try runCLI(["compare", run.name, "--store", store, "--format", "json", "--costs", "0,10"], in: dir)
    #expect(json.status == 0, "\(json.stderr)")
    let c = try JSONDecoder().decode(Comparison.self, from: Data(json.stdout.utf8))
    #expect(c.tables.map(\.period) == ["2011", "2012", "overall", "2011", "2012", "overall"])
    #expect(c.trials == 1)  // the run itself, evaluated on validation during training
    // the returns run from the close of the first decision's bar to that of the last fill (not the last decision's)
    #expect(c.bars.hasSuffix("from the close of 2011-01-03 to the close of 2012-12-31)"), "\(c.bars)")
    // files are named with `..` resolved, relative to the current folder when they lie inside it
    #expect(
        c.bars.hasPrefix("validation split of \(repoRoot)/data/sp500_1999_2018_arch.csv (")
            && c.costs.hasSuffix("(\(repoRoot)/environments/sp500-daily.yaml)"), "\(c.bars) \(c.costs)")
    let fromRoot = try runCLI(["compare", run.name, "--store", store, "--format", "json"], in: repoRoot)
    let d = try JSONDecoder().decode(Comparison.self, from: Data(fromRoot.stdout.utf8))
    #expect(
        d.bars.hasPrefix("validation split of data/sp500_1999_2018_arch.csv (")
            && d.costs.hasPrefix("as in environments/sp500-daily.yaml: "), "\(d.bars) \(d.costs)")
    let row = try #require(c.tables.last?.rows.first)
    #expect(
        row.kind == "agent" && row.runs == [run.name]
            && row.policy == "tiny/dqn-lstm #\(seedlessConfigHash(run.configJSON).prefix(8))")
    #expect(c.edges.count == 1 + singleAssetBaselines.count)

    let byName = try runCLI(
        [
            "compare", "--experiment", experiment, "--store", store, "--years", "2013", "--format", "csv",
            "--out", dir + "/c.csv",
        ], in: dir)
    #expect(byName.status == 0, "\(byName.stderr)")
    let csv = try String(contentsOfFile: dir + "/c.csv", encoding: .utf8).split(separator: "\n")
    #expect(csv.count == 1 + 2 * (1 + singleAssetBaselines.count) && csv[1].hasPrefix("2013,,tiny/dqn-lstm"))

    let report = try runCLI(["report", String(run.id!), "--store", store, "--out", dir + "/r.html"], in: dir)
    #expect(report.status == 0, "\(report.stderr)")
    let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
    #expect(
        html.components(separatedBy: "<svg").count - 1 >= 7 && html.contains("charts/episodicReturn by training step"))

    for (args, named) in [
        (["compare", "nosuchrun"], "nosuchrun"), (["compare", run.name, "--years", "2011,abc"], "'abc'"),
        (["compare", run.name, "--years", "1950"], "1950"), (["compare", run.name, "--costs", "5,-1"], "'-1'"),
        (["compare", run.name, "--costs", "x"], "'x'"),
        (["report", "nosuchrun", "--out", dir + "/x.html"], "nosuchrun"),
        (["compare", "--experiment", "nothing"], "nothing"),
    ] {
        let r = try runCLI(args + ["--store", store], in: dir)
        #expect(r.status != 0 && r.stderrLines.count == 1 && r.stderr.contains(named), "\(args): \(r.stderr)")
    }
}

/// A run whose greedy policy takes one action on every bar is named in one line; one that varies is not.
@Test func constantPoliciesAreNamed() throws {
    let setup = try MarketSetup(path: try syntheticMarket(up: 1.01, down: 0.995))
    let long = Contender(name: "always-long", group: "test/long #22222222", configHash: "22222222", setup: setup) {
        env in
        var env = env
        return runEpisode(&env, seed: 0, keepEvery: 1) { _ in (.index(2), 2) }
    }
    let c = try compare(
        [long, oracle(setup: setup)], reference: setup,
        request: CompareRequest(period: .split(.validation), resamples: 10))
    #expect(c.notes == ["greedy policy is constant: always-long is long on 100% of the bars of the validation split"])
    #expect(try c.rendered(.table).contains(c.notes[0]))
}

/// `--sizing env` adds "long" and time-series momentum with the environment's volatility targeting; the usual
/// baselines keep trading their positions as chosen even when the environment sizes the agents' positions.
@Test func sizedBaselinesFollowTheEnvironmentsVolatilityTarget() throws {
    let path = try syntheticMarket(up: 1.012, down: 0.99)
    let yaml = try String(contentsOfFile: path, encoding: .utf8)
        .replacingOccurrences(
            of: "  window: 4\n",
            with: "  window: 4\n  sizing: {kind: volatilityTarget, annualTarget: 0.1, span: 20, maxLeverage: 3}\n")
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    let setup = try MarketSetup(path: path)
    let c = try compare(
        [oracle(setup: setup)], reference: setup,
        request: CompareRequest(period: .split(.validation), resamples: 10, sizedBaselines: true))
    let overall = try #require(c.tables.last)
    func exposure(_ name: String) throws -> Double {
        try #require(overall.rows.first { $0.policy == name }?.stats["exposure"]?.mean)
    }
    // Unsized: buy-and-hold holds about 1. Sized: the factor 0.1 / σ of this ±1.1% zig-zag (σ ≈ 0.011·√252 ≈ 0.17).
    #expect(abs(try exposure("buyAndHold") - 1) < 0.01)
    let factors = volatilityTargetScale(closes: setup.dataset.panel.close, config: setup.spec.market.sizing)
    let bars = setup.bars(of: .validation)
    let mean = factors[bars].reduce(0, +) / Double(bars.count)
    #expect(abs(try exposure("longVolTarget") - mean) < 0.05 && mean < 0.8)
    #expect(overall.rows.contains { $0.policy == "momentumVolTarget" })
    #expect(throws: ConfigError.self) {
        try compare(
            [oracle(setup: try MarketSetup(path: try syntheticMarket(up: 1.01, down: 0.99)))],
            reference: try MarketSetup(path: try syntheticMarket(up: 1.01, down: 0.99)),
            request: CompareRequest(period: .split(.validation), resamples: 10, sizedBaselines: true))
    }
}

/// Cost levels print as whole bps when they are whole, and a huge one prints as a number instead of trapping in `Int`.
@Test func costLevelsPrintWithoutTrapping() {
    #expect(bps(5) == "5 bps" && bps(2.5) == "2.5 bps")
    #expect(bps(1e300) == "1e+300 bps")
}

/// Hourly bars are annualised as hourly: the EUR/USD file's 24 bars a day × 252 (not 252 bars a year, which understated
/// a year's return, volatility and Sharpe ratio), and the header says so.
@Test func hourlyBarsAreAnnualisedWithTheirOwnBarsAYear() throws {
    let setup = try MarketSetup(path: repoRoot + "/environments/eurusd-hourly.yaml")
    let long = Contender(name: "long", group: "test/long #22222222", configHash: "22222222", setup: setup) { env in
        var env = env
        return runEpisode(&env, seed: 0, keepEvery: 1) { _ in (.index(2), 2) }
    }
    let c = try compare([long], reference: setup, request: CompareRequest(period: .split(.train), resamples: 10))
    #expect(c.barsPerYear == 6_048)
    #expect(c.bars.hasSuffix("; annualised with 6048 bars a year"), "\(c.bars)")
    let log = c.episodes[0][0].log
    let hourly = PerformanceMetrics(returns: log.returns, periods: 6_048)
    let daily = PerformanceMetrics(returns: log.returns, periods: 252)
    let row = try #require(c.tables.last?.rows.first)
    #expect(row.stats["annualReturn"]?.mean == hourly.annualReturn)
    #expect(row.stats["annualVolatility"]?.mean == hourly.annualVolatility)
    #expect(row.stats["sharpe"]?.mean == hourly.sharpe)
    let (h, d) = (try #require(hourly.annualVolatility), try #require(daily.annualVolatility))
    #expect(abs(h / d - 24.0.squareRoot()) < 1e-9)
}
