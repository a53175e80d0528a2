import Experiments
import Foundation
import MarketData
import RunStore
import Yams

/// A sweep ready to be recorded: every trial (configuration × walk-forward window × seed, in that nesting, the seed
/// fastest) with its assignments and the hash of the configuration its run will get. Making a plan checks every trial
/// as `train` checks a run before creating it (the agent and environment files decoded strictly with the assignments
/// laid over them, the environment built on its data, `checkBeforeTraining`), loading each distinct data config once.
public struct SweepPlan {
    public let name: String
    /// The experiment file as given, and its text.
    public let experimentPath: String
    public let experimentYAML: String
    public let definition: SweepDefinition
    public let seeds: [Int]
    /// The walk-forward windows' splits (empty: no walk-forward).
    public let windows: [SplitConfig]
    public let trials: [TrialRecord]

    /// The most trials a sweep may have (configurations × windows × seeds), and draws in `sweep.random.trials`: ten
    /// thousand are hours of a hundred-node cluster, and each is resolved and checked when the plan is made.
    public static let maxTrials = 10_000

    /// - Parameters:
    ///   - name: `--name`, the sweep's name (nil: the experiment file's base name); see `checkSweepName`.
    ///   - sets: `--set key=v1,v2` grid keys (added to or replacing the file's `sweep.grid`).
    ///   - seeds: `--seeds` (nil: the experiment's `seeds`).
    ///   - checkpoints: `--checkpoints`, the folder of the trials' checkpoints (nil: the experiment's key); set as
    ///     every trial's `checkpoints` key, so a trial resumed anywhere writes to the same folder.
    public init(
        experimentPath path: String, name: String? = nil, sets: [String] = [], seeds: [Int]? = nil,
        checkpoints: String? = nil
    ) throws {
        if let name { try checkSweepName(name, source: "--name") }
        let base = try Experiment.load(path)
        if name == nil { try checkSweepName(base.name, source: "\(path): its base name (the sweep's name)") }
        var definition = try SweepDefinition(block: base.sweep, file: path)
        try definition.set(sets)
        let seeds = seeds ?? base.spec.seeds
        guard !seeds.isEmpty else { throw ConfigError("--seeds: no seed given") }
        let windows = try walkForwardWindows(base)
        let count = definition.configurationCount * Double(max(windows.count, 1)) * Double(seeds.count)
        guard count <= Double(Self.maxTrials) else {
            throw ConfigError(
                "\(path): the sweep has \(String(format: "%.0f", count)) trials (configurations × windows × seeds), "
                    + "more than the \(Self.maxTrials) a sweep may have")
        }
        var setups: [MarketSetup] = []
        try Self.check(definition, path: path, text: base.yaml, setups: &setups)
        let configurations = definition.configurations()

        var trials: [TrialRecord] = []
        for (c, assignments) in configurations.enumerated() {
            for w in windows.isEmpty ? [nil] : windows.indices.map(Optional.some) {
                // A window trains on its train years, is evaluated on its validation and, once, its test years.
                let window: [(path: String, value: Node)] =
                    w.map {
                        [
                            ("environment.data.splits", splitsNode(windows[$0])),
                            ("evaluateOn", .sequence(.init([Node("validation"), Node("test")]))),
                        ]
                    } ?? []
                let all = assignments + window + (checkpoints.map { [("checkpoints", quotedNode($0))] } ?? [])
                for seed in seeds {
                    let plan: RunPlan
                    do {
                        plan = try Self.checkedPlan(
                            try Experiment.load(path, text: base.yaml, assignments: all), seed: seed, setups: &setups)
                    } catch let error as ConfigError {
                        throw ConfigError(
                            "\(path): sweep configuration \(c) (\(describe(all))): \(error.within(path))")
                    }
                    // With warm start, a window starts from the previous window of the same configuration and seed.
                    let after =
                        base.spec.walkForward.warmStart && (w ?? 0) > 0 ? Int64(trials.count - seeds.count) : nil
                    trials.append(
                        TrialRecord(
                            index: Int64(trials.count), configuration: Int64(c),
                            window: w.map(Int64.init), seed: Int64(seed),
                            assignmentsJSON: try assignmentsJSON(all), configHash: plan.configHash,
                            after: after))
                }
            }
        }
        self.name = name ?? base.name
        experimentPath = path
        experimentYAML = base.yaml
        self.definition = definition
        self.seeds = seeds
        self.windows = windows
        self.trials = trials
    }

    /// The sweep as run, as YAML: the grid (with `--set`), the random draws, the seeds and the windows.
    public var definitionYAML: String {
        var lines = ["grid:"]
        for (path, axis) in definition.axes {
            lines.append("  \(path): " + axisText(axis))
        }
        if definition.randomTrials > 0 {
            lines.append("random: {trials: \(definition.randomTrials), seed: \(definition.randomSeed)}")
        }
        lines.append("seeds: [\(seeds.map(String.init).joined(separator: ", "))]")
        if !windows.isEmpty { lines.append("windows: \(windows.count)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The run plan of `experiment` and `seed`, checked as `runExperiment` checks its runs before creating them: its
    /// environment built on its data (taken from `setups` when one has the same data config, else loaded and added)
    /// and `checkBeforeTraining`.
    static func checkedPlan(_ experiment: Experiment, seed: Int, setups: inout [MarketSetup]) throws -> RunPlan {
        let plan = try RunPlan(experiment, seed: seed)
        let setup = try plan.setup(sharingDataWith: setups)
        if !setups.contains(where: { $0.spec.data == setup.spec.data && $0.folder == setup.folder }) {
            setups.append(setup)
        }
        try checkBeforeTraining(experiment, plans: [plan], setup: setup)
        return plan
    }

    /// Checks every value of every key alone (`checkedPlan`), so that an error names the key and value at fault,
    /// before the combinations are resolved.
    static func check(_ definition: SweepDefinition, path: String, text: String, setups: inout [MarketSetup]) throws {
        for (key, axis) in definition.axes {
            for value in axis.representatives {
                do {
                    _ = try checkedPlan(
                        try Experiment.load(path, text: text, assignments: [(key, value)]), seed: 0, setups: &setups)
                } catch let error as ConfigError {
                    throw ConfigError("\(path): sweep key '\(key)' value '\(yamlText(value))': \(error.within(path))")
                }
            }
        }
    }
}

extension ConfigError {
    /// The message without its leading `file: ` when it is about `file` (the experiment a sweep message names first).
    func within(_ file: String) -> String {
        description.hasPrefix(file + ": ") ? String(description.dropFirst(file.count + 2)) : description
    }
}

/// The walk-forward windows of an experiment: `trainYears`, then `validationYears`, then `testYears`, moved on by
/// `stepYears`, inside the environment's train and validation years (its test years are never used). Empty when
/// `walkForward.trainYears` is 0.
func walkForwardWindows(_ experiment: Experiment) throws -> [SplitConfig] {
    let w = experiment.spec.walkForward
    guard w.trainYears > 0 else { return [] }
    let splits = try EnvironmentSpec.load(experiment.environmentPath, overrides: experiment.environmentOverrides)
        .data.splits
    guard splits.train.count == 2 else { throw ConfigError("\(experiment.path): walkForward needs a train split") }
    let first = splits.train[0], last = splits.validation.count == 2 ? splits.validation[1] : splits.train[1]
    var windows: [SplitConfig] = []
    var start = first
    while start + w.trainYears + w.validationYears + w.testYears - 1 <= last {
        let v = start + w.trainYears, t = v + w.validationYears
        windows.append(SplitConfig(train: [start, v - 1], validation: [v, t - 1], test: [t, t + w.testYears - 1]))
        start += w.stepYears
    }
    guard !windows.isEmpty else {
        throw ConfigError(
            "\(experiment.path): key 'walkForward' needs \(w.trainYears + w.validationYears + w.testYears) years but "
                + "the environment's train and validation years are \(first)–\(last)")
    }
    return windows
}

/// A split configuration as the YAML node `environment.data.splits` takes.
func splitsNode(_ s: SplitConfig) -> Node {
    func range(_ r: [Int]) -> Node { .sequence(.init(r.map { Node(String($0)) })) }
    return .mapping(
        .init([
            (Node("train"), range(s.train)), (Node("validation"), range(s.validation)),
            (Node("test"), range(s.test)),
        ]))
}

/// A string as a double-quoted YAML scalar (a path may hold `: ` or `#`).
func quotedNode(_ text: String) -> Node {
    .scalar(.init(text, Tag(.str), .doubleQuoted))
}

/// A node as one line of YAML (flow style).
func yamlText(_ node: Node) -> String {
    switch node {
    case .scalar(let s):
        guard [.singleQuoted, .doubleQuoted, .literal, .folded].contains(s.style) else { return s.string }
        let escaped = s.string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + escaped + "\""
    case .sequence(let s): return "[" + s.map(yamlText).joined(separator: ", ") + "]"
    case .mapping(let m):
        return "{" + m.map { "\(yamlText($0.key)): \(yamlText($0.value))" }.joined(separator: ", ") + "}"
    case .alias: return "*"
    }
}

/// `key=value …` of a configuration.
func describe(_ assignments: [(path: String, value: Node)]) -> String {
    assignments.isEmpty ? "no keys" : assignments.map { "\($0.path)=\(yamlText($0.value))" }.joined(separator: " ")
}

func axisText(_ axis: SweepAxis) -> String {
    switch axis {
    case .values(let v): "[" + v.map(yamlText).joined(separator: ", ") + "]"
    case .logUniform(let a, let b): "{logUniform: [\(a), \(b)]}"
    case .uniform(let a, let b): "{uniform: [\(a), \(b)]}"
    case .intUniform(let a, let b): "{intUniform: [\(a), \(b)]}"
    case .choice(let v): "{choice: [" + v.map(yamlText).joined(separator: ", ") + "]}"
    }
}

/// Assignments as stored in `trial.assignmentsJSON`: a JSON list of [key, value as one line of YAML].
func assignmentsJSON(_ assignments: [(path: String, value: Node)]) throws -> String {
    let pairs = assignments.map { [$0.path, yamlText($0.value)] }
    return String(
        decoding: try JSONSerialization.data(withJSONObject: pairs, options: [.withoutEscapingSlashes]),
        as: UTF8.self)
}

/// The assignments of `trial.assignmentsJSON` back as YAML nodes.
func assignments(fromJSON json: String) throws -> [(path: String, value: Node)] {
    guard let pairs = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String]] else {
        throw ConfigError("trial assignments are not a list of [key, value] pairs: \(json)")
    }
    return try pairs.map { pair in
        guard pair.count == 2 else { throw ConfigError("trial assignment \(pair) is not a [key, value] pair") }
        return (pair[0], try Yams.compose(yaml: pair[1]) ?? Node(pair[1]))
    }
}
