import ArgumentParser
import Experiments
import Foundation
import RunStore
import Sweeps

extension CompareFormat: ExpressibleByArgument {}

/// `--sizing`: the baselines as chosen only, or also with the environment's position sizing.
enum BaselineSizing: String, ExpressibleByArgument {
    case none, env
}

/// The runs and bars a `compare` or `report` command names, shared by both.
struct RunSelection: ParsableArguments {
    @Argument(help: "Run ids or name prefixes (the seeds of one configuration are grouped as mean ± std).")
    var runs: [String] = []
    @Option(help: "Every run of this experiment: its file (experiments/NAME.yaml) or its name.")
    var experiment: String?
    @Option(help: "The split to evaluate on: train, validation or test (test: held-out years, never tune on them).")
    var split: Split?
    @Option(help: "Calendar years to evaluate on instead of a split, e.g. 2011,2012.")
    var years: String?
    @Option(help: "Every run of this sweep (a walk-forward sweep: the windows' test years, stitched).")
    var sweep: String?
    @Option(help: "The run store.")
    var store: String = defaultStorePath
    @Option(
        help: """
            Baselines with the environment's position sizing too: \
            none or env (adds longVolTarget and momentumVolTarget).
            """
    )
    var sizing: BaselineSizing = .none
    @Option(parsing: .unconditional, help: "Seed of the bootstrap Sharpe intervals.")
    var bootstrapSeed: UInt64 = 0

    func validate() throws {
        if runs.isEmpty && experiment == nil && sweep == nil {
            throw ValidationError("give run ids or names, --experiment or --sweep")
        }

        if split != nil && years != nil { throw ValidationError("give --split or --years, not both") }
    }

    /// What to evaluate: the period, `costLevels` (bps, `--costs` of compare), the baselines' sizing and the bootstrap
    /// seed.
    func request(costLevels: [Double] = []) throws -> CompareRequest {
        CompareRequest(
            period: try period(), costLevels: costLevels, bootstrapSeed: bootstrapSeed,
            sizedBaselines: sizing == .env)
    }

    /// The period: `--years`, else `--split` (validation by default).
    func period() throws -> ComparePeriod {
        guard let years else { return .split(split ?? .validation) }
        let parts = years.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return .years(
            try parts.map { p in
                guard let y = Int(p), (1000...9999).contains(y) else {
                    throw CLIError("--years: '\(p)' is not a year (e.g. --years 2011,2012)")
                }
                return y
            })
    }

    /// The runs the selection names, each once: the arguments, every finished run of `--experiment`, every run of
    /// `--sweep`; and whether that sweep is walk-forward (compared alone, on its windows' test years).
    func selected(in db: RunStore) throws -> (runs: [RunRecord], walkForward: Bool) {
        var references = runs
        if experiment != nil { references = try self.references(in: db) }
        if let sweep {
            let trials = try db.trials(sweepId: try db.sweep(named: sweep).id!)
            let sweepRuns = try trials.compactMap(\.runId).map { try db.run(id: $0) }
            if trials.contains(where: { $0.window != nil }) {
                guard references.isEmpty, split == nil, years == nil else {
                    throw CLIError("--sweep \(sweep) is walk-forward: it is compared alone, on its windows' test years")
                }
                return (sweepRuns, true)
            }
            references += sweepRuns.map { "\($0.id!)" }
        }
        var seen = Set<Int64>(), selected: [RunRecord] = []
        for r in references {
            let run = try db.run(reference: r)
            if seen.insert(run.id!).inserted { selected.append(run) }
        }
        return (selected, false)
    }

    /// The comparison of the `selected` runs the selection asks for: a walk-forward sweep's stitched tracks, or the
    /// runs on the period.
    func comparison(
        of selected: (runs: [RunRecord], walkForward: Bool), in db: RunStore, request: CompareRequest
    ) throws -> Comparison {
        if selected.walkForward, let sweep { return try stitchedComparison(sweep, store: db, request: request) }
        return try compareRuns(selected.runs.map { "\($0.id!)" }, store: db, request: request)
    }

    /// The run references: the arguments, then every finished run of `--experiment` (none is an error). A run that
    /// repeats an earlier one's configuration, seed and code version gave the same bits: only the latest of each counts
    /// (as a seed of its row, and as a DSR trial), and a note on standard error says how many were left out.
    func references(in db: RunStore) throws -> [String] {
        guard let experiment else { return runs }
        let name = experimentName(experiment)
        let found = try db.runs(experiment: name).filter { $0.status == .finished }
        guard !found.isEmpty else {
            throw CLIError("--experiment \(experiment): no finished run of experiment '\(name)' in \(db.path)")
        }
        let latest = latestOfRepeats(found)
        if latest.count < found.count {
            FileHandle.standardError.write(
                Data(
                    ("note: --experiment \(experiment): \(found.count - latest.count) of its \(found.count) runs "
                        + (found.count - latest.count == 1 ? "repeats " : "repeat ")
                        + "a later run's configuration and seed; the latest of each is compared\n").utf8))
        }
        return runs + latest.map { String($0.id!) }
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract:
            "Evaluate runs' saved policies and every baseline on the same bars with the same costs: "
            + "a table per year and overall.",
        discussion: """
            Each run's latest checkpoint plays greedily over the split (or years); runs of one experiment, agent and \
            configuration (config hash without the seed) are one row, mean ± std over their seeds. Columns: the \
            headline metrics (empyrical conventions, annualised with the data's bars a year: 252 for daily bars, \
            24 × 252 for round-the-clock hourly ones, or data.barsPerYear), PSR, DSR (N = runs in the store evaluated on \
            the same split, with the runs compared; V = variance of the compared runs' per-bar Sharpe ratios, plus the \
            other trials' stored validation/test Sharpe on a split's overall table) and a seeded stationary \
            block-bootstrap 95% interval of the Sharpe ratio. Costs are the first run's environment's unless --costs \
            is given.
            """)

    @OptionGroup var selection: RunSelection
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Cost levels in bps for a sweep, e.g. 0,5,10,20.",
            discussion:
                "Each level sets the commission to that many bps of traded notional and the half-spread and slippage "
                + "to 0 (so the level is the whole one-way cost of a trade); the short-borrow fee stays as "
                + "configured. Shows where each agent's Sharpe edge over buy-and-hold disappears."
        ))
    var costs: String?
    @Option(help: "table, markdown, csv or json.")
    var format: CompareFormat = .table
    @Option(help: "Write the output to this file instead of standard output.")
    var out: String?

    func run() throws {
        let db = try storeToRead(selection.store)
        let request = try selection.request(costLevels: try parseCostLevels(costs))
        let selected = try selection.selected(in: db)
        if let out {
            try checkOutput(
                out, flag: "--out", store: selection.store, evaluating: selected.runs, in: db,
                experiment: selection.experiment)
        }
        let comparison = try selection.comparison(of: selected, in: db, request: request)
        try write(try comparison.rendered(format), to: out)
    }
}

/// `--costs 0,5,10,20` as numbers of bps (each finite and ≥ 0).
func parseCostLevels(_ text: String?) throws -> [Double] {
    guard let text else { return [] }
    return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
        let p = part.trimmingCharacters(in: .whitespaces)
        guard let v = Double(p), v.isFinite, v >= 0 else {
            throw CLIError("--costs: '\(p)' is not a cost in bps (e.g. --costs 0,5,10,20)")
        }
        return v
    }
}
