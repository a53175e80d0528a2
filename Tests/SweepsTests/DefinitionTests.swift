import Experiments
import Foundation
import Testing
import Yams

@testable import Sweeps

func sweepBlock(_ yaml: String) throws -> SweepDefinition {
    try SweepDefinition(block: try Yams.compose(yaml: yaml), file: "x.yaml")
}

func rendered(_ configuration: [(path: String, value: Node)]) -> String {
    configuration.map { "\($0.path)=\($0.value.string ?? "?")" }.joined(separator: " ")
}

/// The grid is every combination of the lists, the last key varying fastest, in the order written.
@Test func gridExpandsInTheOrderWritten() throws {
    let d = try sweepBlock("grid:\n  agent.learningRate: [1.0e-4, 3.0e-4]\n  agent.encoder.hidden: [32, 64, 128]\n")
    #expect(
        d.configurations().map(rendered) == [
            "agent.learningRate=1.0e-4 agent.encoder.hidden=32", "agent.learningRate=1.0e-4 agent.encoder.hidden=64",
            "agent.learningRate=1.0e-4 agent.encoder.hidden=128", "agent.learningRate=3.0e-4 agent.encoder.hidden=32",
            "agent.learningRate=3.0e-4 agent.encoder.hidden=64", "agent.learningRate=3.0e-4 agent.encoder.hidden=128",
        ])
    #expect(try sweepBlock("{}").configurations().map(rendered) == [""])
}

/// Random draws are seeded: the same seed gives the same trials, another seed others; every draw lies in its range;
/// each grid point gets the same draws.
@Test func randomDrawsAreSeededAndInRange() throws {
    let yaml = """
        grid:
          agent.gamma: [0.9, 0.99]
          agent.learningRate: {logUniform: [1.0e-5, 1.0e-2]}
          agent.nSteps: {intUniform: [4, 9]}
          agent.gaeLambda: {uniform: [0.8, 1.0]}
          agent.encoder.kind: {choice: [lstm, cnn, mlp]}
        random: {trials: 50, seed: SEED}
        """
    let a = try sweepBlock(yaml.replacingOccurrences(of: "SEED", with: "7")).configurations()
    let b = try sweepBlock(yaml.replacingOccurrences(of: "SEED", with: "7")).configurations()
    let c = try sweepBlock(yaml.replacingOccurrences(of: "SEED", with: "8")).configurations()
    #expect(a.count == 100 && a.map(rendered) == b.map(rendered) && a.map(rendered) != c.map(rendered))
    #expect(
        a.prefix(50).map { rendered(Array($0.dropFirst())) } == a.suffix(50).map { rendered(Array($0.dropFirst())) })
    #expect(
        a.allSatisfy {
            $0.map(\.path) == [
                "agent.gamma", "agent.learningRate", "agent.nSteps", "agent.gaeLambda",
                "agent.encoder.kind",
            ]
        })
    let lr = a.map { Double($0[1].value.string!)! }, n = a.map { Int($0[2].value.string!)! }
    let lambda = a.map { Double($0[3].value.string!)! }, kinds = Set(a.map { $0[4].value.string! })
    #expect(lr.allSatisfy { $0 >= 1e-5 && $0 <= 1e-2 } && lr.contains { $0 < 1e-4 } && lr.contains { $0 > 1e-3 })
    #expect(Set(n) == Set(4...9) && lambda.allSatisfy { $0 >= 0.8 && $0 < 1 } && kinds == ["lstm", "cnn", "mlp"])
}

/// `--set key=a,b` adds a grid key or replaces one of the file's, values parsed as YAML.
@Test func commandLineSetsAddOrReplaceKeys() throws {
    var d = try sweepBlock("grid:\n  agent.learningRate: [1.0e-4]\n")
    try d.set(["agent.learningRate=1e-4,3e-4", "environment.market.reward.kind=logReturn,volScaled"])
    #expect(
        d.configurations().map(rendered) == [
            "agent.learningRate=1e-4 environment.market.reward.kind=logReturn",
            "agent.learningRate=1e-4 environment.market.reward.kind=volScaled",
            "agent.learningRate=3e-4 environment.market.reward.kind=logReturn",
            "agent.learningRate=3e-4 environment.market.reward.kind=volScaled",
        ])
    #expect(throws: ConfigError("--set agent.gamma: an empty value")) { try d.set(["agent.gamma=0.9,"]) }
    #expect(throws: ConfigError("--set 'agent.gamma': expected key=value[,value…]")) { try d.set(["agent.gamma"]) }
}

/// A bad block is one error line naming the key.
@Test func badSweepBlocksNameTheKey() throws {
    let cases: [(String, String)] = [
        ("grid:\n  agent.learningRate: []\n", "x.yaml: key 'sweep.grid.agent.learningRate' has no values"),
        ("grid: [1, 2]\n", "x.yaml: key 'sweep.grid' must be a mapping"),
        ("grids: {}\n", "x.yaml: unknown key 'sweep.grids' (known keys: grid, random)"),
        (
            "grid:\n  agent.learningRate: {normal: [0, 1]}\n",
            "x.yaml: key 'sweep.grid.agent.learningRate.normal' is not a distribution (one of logUniform, "
                + "uniform, intUniform, choice)"
        ),
        (
            "grid:\n  agent.learningRate: {logUniform: [0.1, 0.01]}\nrandom: {trials: 2, seed: 1}\n",
            "x.yaml: key 'sweep.grid.agent.learningRate.logUniform' needs two numbers [a, b] with a < b"
        ),
        (
            "grid:\n  agent.learningRate: {logUniform: [1.0e-4, 1.0e-3]}\n",
            "x.yaml: key 'sweep.grid.agent.learningRate' is a distribution: add 'sweep.random: {trials: N, seed: S}'"
        ),
        (
            "grid:\n  agent.gamma: [0.9]\nrandom: {trials: 2, seed: 1}\n",
            "x.yaml: key 'sweep.random' needs a key drawn from a distribution in 'sweep.grid'"
        ),
        (
            "grid:\n  agent.gamma: {uniform: [0.9, 0.99]}\nrandom: {trials: 0, seed: 1}\n",
            "x.yaml: key 'sweep.random.trials' must be a positive integer, at most 10000, got '0'"
        ),
    ]
    for (yaml, message) in cases {
        #expect(throws: ConfigError(message), "\(yaml)") { try sweepBlock(yaml) }
    }
}
