import Testing
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
    let v = try StrictYAML.decode(Outer.self, yaml: "steps: 3\ninner: {rate: 1, name: y}\noverrides: {a: 2}\nactions: [0, 1]\n", file: "a.yaml")
    #expect(v == Outer(steps: 3, inner: Inner(rate: 1, name: "y"), overrides: ["a": 2], actions: [0, 1]))
}

@Test func unknownKeyNamesFileLineAndPath() {
    #expect(throws: ConfigError("a.yaml: line 3: unknown key 'inner.rat' (known keys: name, rate)")) {
        try StrictYAML.decode(Outer.self, yaml: "steps: 3\ninner:\n  rat: 1\n", file: "a.yaml")
    }
}

@Test func wrongTypeNamesKey() throws {
    do {
        _ = try StrictYAML.decode(Outer.self, yaml: "steps: many\n", file: "b.yaml")
        Issue.record("expected an error")
    } catch let e as ConfigError {
        #expect(e.description.hasPrefix("b.yaml: key 'steps' must be an integer"))
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
