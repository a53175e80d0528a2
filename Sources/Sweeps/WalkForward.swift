import Experiments
import Foundation
import MarketData
import RunStore
import TradingEnv

/// `tradesim compare --sweep NAME` (and `report --sweep`) on a walk-forward sweep: every trial's policy evaluated
/// on its window's test years with its window's data (the normaliser fitted on that window's train years), the
/// windows of each configuration and seed stitched in order with the capital carried from one to the next
/// (`EpisodeLog.stitched`), and every baseline stitched over the same windows. The tables are per calendar year and
/// overall, each configuration as mean ± std over its seeds; the DSR's N is the number of stitched tracks.
public func stitchedComparison(_ name: String, store: RunStore, request: CompareRequest) throws -> Comparison {
    let sweep = try store.sweep(named: name)
    let trials = try store.trials(sweepId: sweep.id!)
    guard trials.allSatisfy({ $0.window != nil }) else {
        throw ConfigError("sweep \(name) has no walk-forward windows: compare its runs with tradesim compare RUN…")
    }
    let unfinished = trials.filter { $0.status != .finished }
    guard unfinished.isEmpty else {
        throw RunStateError("sweep \(name): \(unfinished.count) of \(trials.count) trials have not finished")
    }
    let windows = Array(Set(trials.compactMap(\.window))).sorted()
    // Each window's policies, and its data (the same for every trial of the window).
    var saved: [Int64: SavedRun] = [:]
    var windowSetups: [Int64: MarketSetup] = [:]
    for t in trials {
        let s = try SavedRun(try store.run(id: t.runId!), store: store)
        saved[t.index] = s
        if windowSetups[t.window!] == nil { windowSetups[t.window!] = s.setup }
    }
    let reference = windowSetups[windows[0]]!
    let base = reference.spec.market.costs
    let levels: [Double?] = request.costLevels.isEmpty ? [nil] : request.costLevels.map { $0 }
    let tracks = Dictionary(grouping: trials) { "\($0.configuration)/\($0.seed)" }
    let trackKeys = tracks.keys.sorted { a, b in
        let (x, y) = (tracks[a]![0], tracks[b]![0])
        return (x.configuration, x.seed) < (y.configuration, y.seed)
    }
    let definition = "the \(trackKeys.count) stitched configuration × seed tracks of the sweep"
    var comparison = Comparison(
        bars: "", costs: "", trials: trackKeys.count, trialsDefinition: definition,
        tables: [], edges: [])
    for level in levels {
        func testEnv(_ setup: MarketSetup) throws -> MarketEnv {
            try setup.environment(.test) { market in
                if let level { market.costs = costs(atBps: level, base: base) }
                market.episode.mode = .whole
            }
        }
        var episodes: [(policy: ComparedPolicy, log: EpisodeLog)] = []
        for key in trackKeys {
            let members = tracks[key]!.sorted { $0.window! < $1.window! }
            let logs = try members.map { t in
                evaluateAgent(try saved[t.index]!.agent(), env: try testEnv(saved[t.index]!.setup))
            }
            let first = members[0]
            let keys = describeAssignments(first.assignmentsJSON, keepingWindows: false)
            let group = "\(name) config \(first.configuration) (\(keys))"
            episodes.append(
                (
                    ComparedPolicy(
                        name: "\(name) config \(first.configuration) seed \(first.seed)", group: group,
                        configHash: "config \(first.configuration)", runId: nil,
                        setup: windowSetups[windows.last!]!),
                    EpisodeLog.stitched(logs)
                ))
        }
        for kind in comparedBaselines(for: reference) {
            let logs = try windows.map { w in
                evaluateBaseline(kind, env: try testEnv(windowSetups[w]!), train: windowSetups[w]!.bars(of: .train))
            }
            episodes.append(
                (
                    ComparedPolicy(
                        name: kind.rawValue, group: kind.rawValue, configHash: nil, runId: nil,
                        setup: reference), EpisodeLog.stitched(logs)
                ))
        }
        comparison.episodes.append(episodes)
        comparison.tables += tables(
            episodes, costBps: level, years: nil, trials: trackKeys.count, storedSharpes: [],
            request: request)
    }
    let log = comparison.episodes[0][0].log
    let panel = reference.dataset.panel
    comparison.bars =
        "the test years of \(windows.count) walk-forward windows of sweep \(name), stitched, of "
        + "\(displayPath(reference.dataPath)) (" + returnsSpan(log) + ")"
        + (annualisationNote(barsPerYear: panel.barsPerYear).map { "; \($0)" } ?? "")
    comparison.barsPerYear = panel.barsPerYear
    comparison.costs = costsDescription(base, path: reference.path, swept: !request.costLevels.isEmpty)
    if levels.count > 1 { comparison.edges = costEdges(comparison.tables.filter { $0.period == "overall" }) }
    return comparison
}

/// `tradesim audit experiments/X.yaml`: the leakage audit of the data of every environment a training experiment trains
/// on, as its runs see it (its `overrides:` laid over the environment file): once per distinct `data:` among its sweep's
/// configurations (once without a sweep; keys outside `data:`, such as costs or the reward, change nothing audited), and
/// per walk-forward window, with the splits the window sets (the normaliser fitted on its train years alone). Each
/// audit's label names the environment keys of the first configuration with that data, when the sweep sets any, and the
/// window; it is empty for an experiment's one environment.
public func auditExperiment(_ experimentPath: String, cuts: Int, seed: UInt64) throws
    -> [(label: String, checks: [AuditCheck])]
{
    let experiment = try Experiment.load(experimentPath)
    let windows = try walkForwardWindows(experiment)
    var audited: [(folder: String, data: DataConfig)] = [], audits: [(label: String, checks: [AuditCheck])] = []
    for assignments in try SweepDefinition(block: experiment.sweep, file: experimentPath).configurations() {
        let environment = assignments.filter { $0.path == "environment" || $0.path.hasPrefix("environment.") }
        for window in windows.isEmpty ? [nil] : windows.map(Optional.some) {
            let splits = window.map { [("environment.data.splits", splitsNode($0))] } ?? []
            let resolved = try Experiment.load(experimentPath, text: experiment.yaml, assignments: environment + splits)
            let path = resolved.environmentPath, overrides = resolved.environmentOverrides
            // The data's paths are relative to the environment file's folder. Seen data is skipped before it is loaded;
            // a file that does not decode fails in `MarketSetup`, whose message names the overrides.
            let folder = (path as NSString).deletingLastPathComponent
            if let data = try? EnvironmentSpec.load(path, overrides: overrides).data,
                audited.contains(where: { $0.folder == folder && $0.data == data })
            {
                continue
            }
            let setup = try MarketSetup(path: path, overrides: overrides)
            audited.append((folder, setup.spec.data))
            var audit = LeakageAudit(dataset: setup.dataset, config: setup.spec.data)
            audit.cuts = cuts
            audit.seed = seed
            let checks: [AuditCheck]
            do { checks = try audit.run() } catch let error as MarketDataError {
                throw ConfigError("\(path): data: \(error.description)")
            }
            let label = [
                environment.isEmpty ? nil : describe(environment),
                window.map { w in
                    "window train \(w.train[0])–\(w.train[1]), validation \(w.validation[0])–\(w.validation[1]), "
                        + "test \(w.test[0])–\(w.test[1])"
                },
            ].compactMap { $0 }.joined(separator: ", ")
            audits.append((label, checks))
        }
    }
    return audits
}
