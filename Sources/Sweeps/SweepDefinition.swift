import Experiments
import Foundation
import RLCore
import Yams

/// One searched key of a sweep: a list of values (a grid axis) or a distribution drawn for every random trial.
public enum SweepAxis: Equatable {
    case values([Node])
    case logUniform(Double, Double)
    case uniform(Double, Double)
    case intUniform(Int, Int)
    case choice([Node])

    /// Whether the axis is drawn at random (not a grid list).
    var isRandom: Bool {
        if case .values = self { return false }
        return true
    }

    /// Values that stand for the axis when its keys are checked: the list, or the bounds of a range.
    var representatives: [Node] {
        switch self {
        case .values(let v), .choice(let v): v
        case .logUniform(let a, let b), .uniform(let a, let b): [Node(String(a)), Node(String(b))]
        case .intUniform(let a, let b): [Node(String(a)), Node(String(b))]
        }
    }

    /// One draw (uniform: a + (b − a)·u; log-uniform: exp of the uniform in log space; integers and choices: each
    /// equally likely). `u` comes from the top 53 bits of the generator, so the draws are the same on every platform.
    func draw(using rng: inout Xoshiro256) -> Node {
        func unit() -> Double { Double(rng.next() >> 11) * 0x1p-53 }
        func index(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        switch self {
        case .values(let v): return v[0]
        case .uniform(let a, let b): return Node(String(a + (b - a) * unit()))
        case .logUniform(let a, let b): return Node(String(exp(log(a) + (log(b) - log(a)) * unit())))
        case .intUniform(let a, let b): return Node(String(a + index(b - a + 1)))
        case .choice(let v): return v[index(v.count)]
        }
    }
}

/// A sweep as defined by an experiment's `sweep:` block and the command line:
///
/// ```yaml
/// sweep:
///   grid:                                # every combination of the lists, in the order written
///     agent: [../agents/dqn-lstm.yaml, ../agents/ppo-lstm.yaml]
///     agent.learningRate: [1.0e-4, 3.0e-4]
///     environment.market.reward.kind: [logReturn, volScaled]
///   random: {trials: 8, seed: 1}         # with distributions among the keys: 8 draws per grid point
/// ```
///
/// A key is a dotted path: `agent.…` and `environment.…` lay over the agent and environment files (the paths
/// `overrides:` uses), any other key is a key of the experiment file. A value is a list, or one of
/// `{logUniform: [a, b]}`, `{uniform: [a, b]}`, `{intUniform: [a, b]}`, `{choice: [...]}` (which need `random:`).
/// The experiment's `seeds` cross every configuration.
public struct SweepDefinition {
    /// The searched keys in the order written (command-line `--set` keys replace or follow them).
    public var axes: [(path: String, axis: SweepAxis)]
    /// Random draws per grid point (0: no random axes) and the seed they are drawn with.
    public var randomTrials: Int
    public var randomSeed: UInt64

    public init(axes: [(path: String, axis: SweepAxis)] = [], randomTrials: Int = 0, randomSeed: UInt64 = 0) {
        self.axes = axes
        self.randomTrials = randomTrials
        self.randomSeed = randomSeed
    }

    /// Reads an experiment's `sweep:` block; errors name the file and the key.
    public init(block: Node?, file: String) throws {
        self.init()
        guard let block else { return }
        guard let mapping = block.mapping else { throw ConfigError("\(file): key 'sweep' must be a mapping") }
        for (k, v) in mapping {
            switch k.string {
            case "grid":
                guard let grid = v.mapping else { throw ConfigError("\(file): key 'sweep.grid' must be a mapping") }
                for (key, value) in grid {
                    let path = key.string ?? "\(key)"
                    axes.append((path, try Self.axis(value, key: "sweep.grid.\(path)", file: file)))
                }
            case "random":
                guard let random = v.mapping else { throw ConfigError("\(file): key 'sweep.random' must be a mapping") }
                for (rk, rv) in random {
                    switch rk.string {
                    case "trials":
                        guard let n = rv.int, n > 0, n <= SweepPlan.maxTrials else {
                            throw ConfigError(
                                "\(file): key 'sweep.random.trials' must be a positive integer, at most "
                                    + "\(SweepPlan.maxTrials), got '\(rv.string ?? "?")'"
                            )
                        }
                        randomTrials = n
                    case "seed":
                        guard let s = rv.int, s >= 0 else {
                            throw ConfigError(
                                "\(file): key 'sweep.random.seed' must be an integer ≥ 0, got '\(rv.string ?? "?")'")
                        }
                        randomSeed = UInt64(s)
                    default:
                        throw ConfigError(
                            "\(file): unknown key 'sweep.random.\(rk.string ?? "?")' (known keys: seed, trials)")
                    }
                }
            default:
                throw ConfigError("\(file): unknown key 'sweep.\(k.string ?? "?")' (known keys: grid, random)")
            }
        }
        try checkRandom(file: file)
    }

    /// Adds or replaces grid axes from `--set key=v1,v2,…` (each value parsed as YAML).
    public mutating func set(_ assignments: [String]) throws {
        for a in assignments {
            guard let eq = a.firstIndex(of: "="), eq != a.startIndex else {
                throw ConfigError("--set '\(a)': expected key=value[,value…]")
            }
            let path = String(a[..<eq])
            let values = try a[a.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false).map {
                text -> Node in
                guard !text.isEmpty else { throw ConfigError("--set \(path): an empty value") }
                do { return Self.unmarked(try Yams.compose(yaml: String(text)) ?? Node(String(text))) } catch {
                    throw ConfigError("--set \(path): '\(text)' is not a YAML value")
                }
            }
            if let twice = Self.repeatedValue(values) {
                throw ConfigError("--set \(path): lists \(twice) twice (the same trials twice)")
            }
            if let i = axes.firstIndex(where: { $0.path == path }) {
                axes[i].axis = .values(values)
            } else {
                axes.append((path, .values(values)))
            }
        }
    }

    /// The configurations: every combination of the grid lists (the last key varies fastest), each crossed with
    /// `randomTrials` joint draws of the random keys (the same draws at every grid point). Each is the list of
    /// (key, value) assignments in axis order.
    public func configurations() -> [[(path: String, value: Node)]] {
        var grid: [[(path: String, value: Node)]] = [[]]
        for (path, axis) in axes {
            guard case .values(let values) = axis else { continue }
            grid = grid.flatMap { prefix in values.map { prefix + [(path, $0)] } }
        }
        let random = axes.filter(\.axis.isRandom)
        guard !random.isEmpty else { return grid }
        var rng = Xoshiro256(seed: randomSeed)
        let draws: [[(path: String, value: Node)]] = (0..<randomTrials).map { _ in
            random.map { ($0.path, $0.axis.draw(using: &rng)) }
        }
        return grid.flatMap { point in
            draws.map { draw in
                // In axis order, as written.
                axes.compactMap { axis in
                    (point.first { $0.path == axis.path } ?? draw.first { $0.path == axis.path }).map {
                        (axis.path, $0.value)
                    }
                }
            }
        }
    }

    /// How many configurations `configurations()` makes: the product of the grid lists' lengths, times `randomTrials`
    /// when keys are drawn. A Double, so that no product of a mistyped grid overflows.
    public var configurationCount: Double {
        let grid = axes.reduce(1.0) { n, key in
            if case .values(let values) = key.axis { n * Double(values.count) } else { n }
        }
        return grid * Double(max(randomTrials, 1))
    }

    /// Random axes need `random:` and `random:` needs a random axis.
    func checkRandom(file: String) throws {
        let hasRandom = axes.contains { $0.axis.isRandom }
        if hasRandom && randomTrials == 0 {
            let key = axes.first { $0.axis.isRandom }!.path
            throw ConfigError(
                "\(file): key 'sweep.grid.\(key)' is a distribution: add 'sweep.random: {trials: N, seed: S}'")
        }
        if !hasRandom && randomTrials > 0 {
            throw ConfigError("\(file): key 'sweep.random' needs a key drawn from a distribution in 'sweep.grid'")
        }
    }

    /// `node` without the marks of the text it was parsed from: a `--set` value's line 1 is no line of a file.
    static func unmarked(_ node: Node) -> Node {
        switch node {
        case .scalar(var s):
            s.mark = nil
            return .scalar(s)
        case .sequence(let s): return .sequence(.init(s.map(unmarked), s.tag, s.style))
        case .mapping(let m): return .mapping(.init(m.map { (unmarked($0.key), unmarked($0.value)) }, m.tag, m.style))
        case .alias: return node
        }
    }

    /// Parses one axis value.
    /// The first value a grid list repeats, as written the second time (numbers compared as numbers: 1e-4 and
    /// 0.0001 are one value), nil when they differ.
    static func repeatedValue(_ list: [Node]) -> String? {
        var seen = Set<String>()
        for node in list where !seen.insert(node.float.map { "\($0)" } ?? "\(node)").inserted {
            return node.string ?? "\(node)"
        }
        return nil
    }

    static func axis(_ value: Node, key: String, file: String) throws -> SweepAxis {
        if let list = value.sequence {
            guard !list.isEmpty else { throw ConfigError("\(file): key '\(key)' has no values") }
            if let twice = Self.repeatedValue(Array(list)) {
                throw ConfigError("\(file): key '\(key)' lists \(twice) twice (the same trials twice)")
            }
            return .values(Array(list))
        }
        guard let mapping = value.mapping, mapping.count == 1,
            let (kind, args) = mapping.first.map({ ($0.key.string, $0.value) })
        else {
            throw ConfigError(
                "\(file): key '\(key)' must be a list of values or one of {logUniform: [a, b]}, {uniform: [a, b]}, "
                    + "{intUniform: [a, b]}, {choice: [...]}")
        }
        let list = Array(args.sequence ?? [])
        func bounds<T: Comparable>(_ parse: (Node) -> T?) throws -> (T, T) {
            guard list.count == 2, let a = parse(list[0]), let b = parse(list[1]), a < b else {
                throw ConfigError("\(file): key '\(key).\(kind ?? "")' needs two numbers [a, b] with a < b")
            }
            return (a, b)
        }
        switch kind {
        case "logUniform":
            let (a, b) = try bounds { $0.float }
            guard a > 0 else { throw ConfigError("\(file): key '\(key).logUniform' needs a > 0") }
            return .logUniform(a, b)
        case "uniform":
            let (a, b) = try bounds { $0.float }
            return .uniform(a, b)
        case "intUniform":
            let (a, b) = try bounds { $0.int }
            return .intUniform(a, b)
        case "choice":
            guard !list.isEmpty else { throw ConfigError("\(file): key '\(key).choice' has no values") }
            return .choice(list)
        default:
            throw ConfigError(
                "\(file): key '\(key).\(kind ?? "?")' is not a distribution (one of logUniform, "
                    + "uniform, intUniform, choice)"
            )
        }
    }
}
