import Agents
import Testing
import Yams

@testable import Experiments

struct Inner: Config {
    /// A rate.
    var rate: Double = 0.5
    /// A name.
    var name: String = "x"
}

struct Outer: Config {
    /// Steps to run.
    var steps: Int = 10
    /// Nested block.
    var inner: Inner = Inner()
    /// Free-form overrides.
    var overrides: [String: Double] = [:]
    /// A list.
    var actions: [Double] = [-1, 0, 1]
}

@Test func missingKeysKeepDefaults() throws {
    let v = try StrictYAML.decode(Outer.self, yaml: "inner:\n  rate: 0.25\n", file: "a.yaml")
    #expect(v.steps == 10)
    #expect(v.inner == Inner(rate: 0.25, name: "x"))
    #expect(v.actions == [-1, 0, 1])
}

@Test func fullFileDecodes() throws {
    let v = try StrictYAML.decode(
        Outer.self, yaml: "steps: 3\ninner: {rate: 1, name: y}\noverrides: {a: 2}\nactions: [0, 1]\n", file: "a.yaml")
    #expect(v == Outer(steps: 3, inner: Inner(rate: 1, name: "y"), overrides: ["a": 2], actions: [0, 1]))
}

@Test func unknownKeyNamesFileLineAndPath() {
    #expect(throws: ConfigError("a.yaml: line 3: unknown key 'inner.rat' (known keys: name, rate)")) {
        try StrictYAML.decode(Outer.self, yaml: "steps: 3\ninner:\n  rat: 1\n", file: "a.yaml")
    }
}

@Test func wrongTypeNamesKeyValueAndLine() throws {
    #expect(throws: ConfigError("b.yaml: key 'steps' must be an integer, got 'many' (line 1)")) {
        try StrictYAML.decode(Outer.self, yaml: "steps: many\n", file: "b.yaml")
    }
    #expect(throws: ConfigError("b.yaml: key 'inner.rate' must be a number, got 'abc' (line 3)")) {
        try StrictYAML.decode(Outer.self, yaml: "steps: 2\ninner:\n  rate: abc\n", file: "b.yaml")
    }
    #expect(throws: ConfigError("b.yaml: key 'actions.[1]' must be a number, got 'x' (line 1)")) {
        try StrictYAML.decode(Outer.self, yaml: "actions: [0, x]\n", file: "b.yaml")
    }
}

enum Colour: String, Codable, CaseIterable { case red, green }

struct Painted: Config {
    /// An enum.
    var colour: Colour = .red
    /// Nested.
    var inner: Inner = Inner()
}

@Test func badEnumValueListsTheAllowedValues() throws {
    #expect(throws: ConfigError("e.yaml: key 'colour' must be one of red, green, got 'blue' (line 2)")) {
        try StrictYAML.decode(Painted.self, yaml: "inner: {rate: 1}\ncolour: blue\n", file: "e.yaml")
    }
    // The shipped config enums list theirs too, with no Swift decoding internals.
    do {
        _ = try StrictYAML.decode(EnvironmentSpec.self, yaml: "market:\n  reward: {kind: sharpe}\n", file: "env.yaml")
        Issue.record("expected an error")
    } catch let e as ConfigError {
        #expect(
            e.description == "env.yaml: key 'market.reward.kind' must be one of logReturn, pnl, volScaled, "
                + "differentialSharpe, got 'sharpe' (line 2)")
    }
}

@Test func syntaxErrorNamesLine() throws {
    do {
        _ = try StrictYAML.decode(Outer.self, yaml: "steps: 3\ninner: [1,\n", file: "c.yaml")
        Issue.record("expected an error")
    } catch let e as ConfigError {
        #expect(e.description.hasPrefix("c.yaml: invalid YAML: line"))
    }
}

@Test(arguments: [".inf", "-.inf", "+.INF", ".Inf", ".nan", ".NaN", "1e999", "-1e999", "inf", "nan", "infinity"])
func nonFiniteNumbersNameTheKeyAndLine(_ value: String) {
    #expect(throws: ConfigError("f.yaml: key 'inner.rate' must be a finite number, got '\(value)' (line 3)")) {
        try StrictYAML.decode(Outer.self, yaml: "steps: 2\ninner:\n  rate: \(value)\n", file: "f.yaml")
    }
    #expect(throws: ConfigError("f.yaml: key 'actions.[1]' must be a finite number, got '\(value)' (line 1)")) {
        try StrictYAML.decode(Outer.self, yaml: "actions: [0, \(value)]\n", file: "f.yaml")
    }
    // The shipped configs' keys too, at any depth.
    #expect(
        throws: ConfigError("p.yaml: key 'continuous.initialLogStd' must be a finite number, got '\(value)' (line 2)")
    ) {
        try StrictYAML.decode(
            PPOConfig.self, yaml: "algo: ppo\ncontinuous: {initialLogStd: \(value)}\n", file: "p.yaml")
    }
}

@Test func errorsAboutOverriddenKeysNameTheOverridesFile() throws {
    func overrides(_ yaml: String) throws -> Overrides {
        Overrides(node: try #require(try Yams.compose(yaml: yaml)), file: "exp.yaml", key: ["overrides", "x"])
    }
    let file = "steps: 3\ninner:\n  rate: 0.5\n"
    #expect(throws: ConfigError("exp.yaml: line 2: unknown key 'overrides.x.inner.rat' (known keys: name, rate)")) {
        try StrictYAML.decode(
            Outer.self, yaml: file, file: "a.yaml", overrides: try overrides("steps: 4\ninner: {rat: 1}"))
    }
    #expect(throws: ConfigError("exp.yaml: key 'overrides.x.inner.rate' must be a number, got 'abc' (line 1)")) {
        try StrictYAML.decode(Outer.self, yaml: file, file: "a.yaml", overrides: try overrides("inner: {rate: abc}"))
    }
    #expect(throws: ConfigError("exp.yaml: key 'overrides.x.inner.rate' must be a finite number, got '.nan' (line 1)"))
    {
        try StrictYAML.decode(Outer.self, yaml: file, file: "a.yaml", overrides: try overrides("inner: {rate: .nan}"))
    }
    // The file's own mistakes stay the file's.
    #expect(throws: ConfigError("a.yaml: key 'steps' must be an integer, got 'many' (line 1)")) {
        try StrictYAML.decode(Outer.self, yaml: "steps: many\n", file: "a.yaml", overrides: try overrides("inner: {}"))
    }
    let v = try StrictYAML.decode(Outer.self, yaml: file, file: "a.yaml", overrides: try overrides("inner: {rate: 1}"))
    #expect(v == Outer(steps: 3, inner: Inner(rate: 1, name: "x")))
}

/// A document is read with the types YAML resolves by itself (an unquoted date too); a tag for another reader, or no
/// document at all, is one line naming the file.
@Test func documentsKeepToYAMLsOwnTypes() throws {
    let node = try StrictYAML.document(
        "start: 2005-01-03\nsteps: 10\nrate: 1.5e-4\non: true\nnone: ~\n", file: "a.yaml")
    #expect(node.mapping?["start"]?.string == "2005-01-03")
    #expect(
        throws: ConfigError(
            "b.yaml: line 2: tag tag:yaml.org,2002:python/object:os.system is not one of YAML's own "
                + "(str, int, float, bool, null, seq, map)")
    ) {
        try StrictYAML.document("steps: 10\nrun: !!python/object:os.system {}\n", file: "b.yaml")
    }
    #expect(throws: ConfigError("c.yaml: the file is empty (no YAML document)")) {
        try StrictYAML.document("# only a comment\n", file: "c.yaml")
    }
}
