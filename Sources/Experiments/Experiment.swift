import Agents
import Foundation
import MarketData
import RunStore
import Yams

/// Refuses a `store:` URL that holds a password in the file at `path`, which is recorded with every run it makes.
func refusePassword(inStore store: String, of path: String) throws {
    guard !RunStore.holdsPassword(store) else {
        throw ConfigError(
            "\(path): key 'store': its URL holds a password, which every run would record with this file; give it "
                + "in PGPASSWORD or ~/.pgpass")
    }
}

/// `experiments/NAME.yaml`: which environment and agent, seeds, step budget, evaluation and checkpoint cadence, store.
/// An optional `overrides:` mapping with `environment:` and `agent:` mappings is laid over those files before they are
/// decoded (strictly), e.g. `overrides: {environment: {market: {costs: {commissionBps: 10}}}, agent: {learningRate:
/// 3e-4}}`.
public struct ExperimentSpec: Config {
    /// The environment file, relative to this file's folder.
    public var environment: String = "../environments/sp500-daily.yaml"
    /// The agent file, relative to this file's folder.
    public var agent: String = "../agents/dqn-lstm.yaml"
    /// One run per seed, one after another.
    public var seeds: [Int] = [1]
    /// Environment steps of training per run (at most `maxSteps`).
    public var steps: Int = 20_000
    /// Evaluate the greedy policy on the validation split every this many training steps (0: only at the end).
    public var evaluateEvery: Int = 0
    /// Splits evaluated after training; add `test` only for the final look at the held-out years.
    public var evaluateOn: [Split] = [.validation]
    /// Training episodes' step rows: keep every k-th step (0: episode rows only; evaluation always keeps every step).
    public var logEvery: Int = 0
    /// Write a checkpoint every this many training steps (0: every tenth of `steps`, rounded up) and at the end;
    /// `tradesim train --resume` continues from the latest one.
    public var checkpointEvery: Int = 0
    /// The run store, relative to the working directory.
    public var store: String = "runs/tradesim.sqlite"
    /// The folder of the runs' checkpoint folders, relative to the working directory (empty: `checkpoints/` beside
    /// the store file, so a store folder moves with its checkpoints).
    public var checkpoints: String = ""
    /// A folder for TensorBoard event files (one subfolder per run, written live; relative to the working directory;
    /// empty: none). `tensorboard --logdir` on it shows the runs side by side.
    public var tensorboard: String = ""
    /// A non-finite loss or gradient in an update: `stop` fails the run (its last checkpoint stays valid), `skip` drops
    /// that batch and counts it in the metric `numeric/skippedUpdates`.
    public var nonFinite: NonFinitePolicy = .stop
    /// The run's policy: the `last` weights, or (`bestValidation`) the checkpoint with the best validation Sharpe
    /// among the `evaluateEvery` points and the end (each of them is checkpointed).
    public var select: PolicySelection = .last
    /// With `select: bestValidation`: stop training after this many evaluations without a better Sharpe (0: never).
    public var patience: Int = 0
    /// Walk-forward windows for `tradesim sweep` (off while `trainYears` is 0).
    public var walkForward: WalkForwardSpec = WalkForwardSpec()

    public init() {}

    /// The most steps a run (or a pretrain run) may take: ten billion, days of training at any agent's speed
    /// and far from the step counters' overflow.
    public static let maxSteps = 10_000_000_000

    /// The most years a `walkForward` window's parts and step may each span (the data spans decades).
    public static let maxWalkForwardYears = 1_000

    /// The steps between checkpoints: `checkpointEvery`, or a tenth of `steps` when it is 0.
    public var checkpointInterval: Int { checkpointEvery > 0 ? checkpointEvery : (steps + 9) / 10 }
}

/// Which weights of a run are its policy.
public enum PolicySelection: String, Codable, Sendable, CaseIterable {
    case last, bestValidation
}

/// `walkForward:` of an experiment: windows of `trainYears`, then `validationYears`, then `testYears`, moved on by
/// `stepYears`, inside the environment's train and validation years (its test years are never touched). Each
/// window is a trial of a sweep, trained on its train years (the normaliser fitted on them alone), selected on its
/// validation years and evaluated once on its test years.
public struct WalkForwardSpec: Config {
    /// Years of each window's train split (0: no walk-forward).
    public var trainYears: Int = 0
    /// Years of each window's validation split.
    public var validationYears: Int = 1
    /// Years of each window's test split.
    public var testYears: Int = 1
    /// Years from one window to the next.
    public var stepYears: Int = 1
    /// Start each window from the final weights of the previous window of the same configuration and seed.
    public var warmStart: Bool = false

    public init() {}
}

/// A loaded experiment file with its referenced files resolved.
public struct Experiment {
    /// The experiment file as given.
    public let path: String
    /// Its base name (`experiments/quickstart.yaml` → `quickstart`), used in run names.
    public let name: String
    /// The file's text, stored with every run.
    public let yaml: String
    public var spec: ExperimentSpec
    /// Paths of the environment and agent files, resolved against the experiment file's folder.
    public let environmentPath: String
    public let agentPath: String
    /// What `overrides:` lays over the environment and agent files.
    public let environmentOverrides: Overrides?
    public let agentOverrides: Overrides?
    /// The `sweep:` block as written (read by `tradesim sweep`; `train` runs the experiment without it).
    public var sweep: Node? = nil

    /// Reads and strictly decodes `path` (unknown keys, wrong types and missing files are errors naming file and key).
    /// `assignments` set keys first, by dotted path: `agent.X…` and `environment.X…` go into `overrides:`, any other
    /// path names a key of the experiment file itself (e.g. `steps`, or `agent` for another agent file).
    /// `text` is the file's content when it is already read (a sweep's stored copy).
    public static func load(_ path: String, text: String? = nil, assignments: [(path: String, value: Node)] = [])
        throws -> Experiment
    {
        let text = try text ?? StrictYAML.text(of: path)
        var node = try StrictYAML.document(text, file: path)
        for (key, value) in assignments {
            var parts = key.split(separator: ".").map(String.init)
            if parts.count > 1 && (parts[0] == "agent" || parts[0] == "environment") {
                parts.insert("overrides", at: 0)
            }
            node = StrictYAML.setting(parts, to: value, in: node)
        }
        var sweep: Node?
        if case .mapping(var mapping) = node, let block = mapping["sweep"] {
            sweep = block
            mapping["sweep"] = nil
            node = .mapping(mapping)
        }
        var environmentOverrides: Overrides?, agentOverrides: Overrides?
        if case .mapping(var mapping) = node, let overrides = mapping["overrides"] {
            guard case .mapping(let o) = overrides else {
                throw ConfigError("\(path): key 'overrides' must be a mapping")
            }
            for (k, v) in o {
                guard let key = k.string, key == "agent" || key == "environment" else {
                    throw ConfigError(
                        "\(path): unknown key 'overrides.\(k.string ?? "?")' (known keys: agent, environment)")
                }
                guard v.mapping != nil else { throw ConfigError("\(path): key 'overrides.\(key)' must be a mapping") }
                let laid = Overrides(node: v, file: path, key: ["overrides", key])
                if key == "agent" { agentOverrides = laid } else { environmentOverrides = laid }
            }
            mapping["overrides"] = nil
            node = .mapping(mapping)
        }
        let spec = try StrictYAML.decode(ExperimentSpec.self, node: node, file: path)
        guard !spec.seeds.isEmpty else { throw ConfigError("\(path): key 'seeds' needs at least one seed") }
        if let twice = repeatedValue(spec.seeds) {
            throw ConfigError("\(path): key 'seeds' lists \(twice) twice (a seed twice is the same run twice)")
        }
        try refusePassword(inStore: spec.store, of: path)
        guard spec.steps > 0 else { throw ConfigError("\(path): key 'steps' must be positive") }
        guard spec.steps <= ExperimentSpec.maxSteps else {
            throw ConfigError("\(path): key 'steps' must be at most \(ExperimentSpec.maxSteps), not \(spec.steps)")
        }
        guard spec.evaluateEvery >= 0, spec.logEvery >= 0, spec.checkpointEvery >= 0, spec.patience >= 0 else {
            throw ConfigError("\(path): keys 'evaluateEvery', 'checkpointEvery', 'logEvery' and 'patience' must be ≥ 0")
        }
        if spec.select == .bestValidation && spec.evaluateEvery == 0 {
            throw ConfigError("\(path): key 'select: bestValidation' needs validation evaluations (evaluateEvery > 0)")
        }
        if spec.patience > 0 && spec.select != .bestValidation {
            throw ConfigError("\(path): key 'patience' needs 'select: bestValidation'")
        }
        let w = spec.walkForward
        guard w.trainYears >= 0, w.trainYears == 0 || (w.validationYears >= 1 && w.testYears >= 1 && w.stepYears >= 1),
            [w.trainYears, w.validationYears, w.testYears, w.stepYears].allSatisfy({
                $0 <= ExperimentSpec.maxWalkForwardYears
            })
        else {
            throw ConfigError(
                "\(path): key 'walkForward' needs trainYears ≥ 0 and validationYears, testYears, "
                    + "stepYears ≥ 1, each at most \(ExperimentSpec.maxWalkForwardYears)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") || folder.isEmpty ? p : folder + "/" + p }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return Experiment(
            path: path, name: name, yaml: text, spec: spec, environmentPath: resolve(spec.environment),
            agentPath: resolve(spec.agent), environmentOverrides: environmentOverrides,
            agentOverrides: agentOverrides, sweep: sweep)
    }

    /// An experiment made on the command line from an environment and an agent file (`tradesim train --env --agent`),
    /// on `store` as it may be recorded (a URL without its password: open the store by the given location, not by
    /// `spec.store`).
    public static func adHoc(environment: String, agent: String, steps: Int, seed: Int, store: String) -> Experiment {
        var spec = ExperimentSpec()
        spec.environment = environment
        spec.agent = agent
        spec.steps = steps
        spec.seeds = [seed]
        spec.store = RunStore.shown(store)
        let name = ((agent as NSString).lastPathComponent as NSString).deletingPathExtension
        let yaml = (try? YAMLEncoder().encode(spec)) ?? ""
        return Experiment(
            path: "", name: "adhoc-" + name, yaml: yaml, spec: spec, environmentPath: environment,
            agentPath: agent, environmentOverrides: nil, agentOverrides: nil)
    }

    /// The agent file's base name, used in run names.
    public var agentName: String { ((agentPath as NSString).lastPathComponent as NSString).deletingPathExtension }

    /// The files the experiment reads: its own (none for an ad-hoc one), its agent file, and its environment file with
    /// the data and side series files that names.
    public var files: [String] {
        get throws {
            [path, agentPath].filter { !$0.isEmpty }
                + (try MarketSetup.files(path: environmentPath, overrides: environmentOverrides))
        }
    }
}
