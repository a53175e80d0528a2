import Foundation
import Testing
import TradingEnv

@testable import Experiments
@testable import RunStore

/// An ensemble of identical members is that member: the same run listed twice gives an ensemble run whose validation
/// actions hash to the member's; it is compared and verified by replay like any run; a mismatched member is one line.
@Test func ensembleOfIdenticalMembersIsTheMember() throws {
    let t = try tinyExperiment(steps: 200)
    #expect(try runCLI(["train", t.experiment]).status == 0)
    let store = try RunStore(path: t.store)
    let member = try #require(try store.runs().first)
    let file = t.dir + "/ensemble.yaml"
    try "ensemble: [\(member.name), \(member.id!)]\n".write(toFile: file, atomically: true, encoding: .utf8)
    let r = try runCLI(["ensemble", file, "--store", t.store])
    #expect(r.status == 0 && r.stdout.contains("validation split, greedy policy vs baselines"), "\(r.stderr)")
    let ensemble = try #require(try store.runs().last)
    #expect(ensemble.agent == ensembleRunKind && ensemble.status == .finished)
    let a = try #require(try store.episodes(runId: member.id!, split: .validation).last)
    let b = try #require(try store.episodes(runId: ensemble.id!, split: .validation).last)
    #expect(a.actionsHash == b.actionsHash && a.finalEquity == b.finalEquity && a.steps == b.steps)
    let verified = try runCLI(["replay", ensemble.name, "--verify", "--store", t.store])
    #expect(verified.status == 0 && verified.stdout.contains("verified"), "\(verified.stderr)")
    let resumed = try runCLI(["train", "--resume", ensemble.name, "--store", t.store])
    #expect(resumed.failsWithOneErrorLine, "\(resumed.stderr)")
    // A member is not deleted without its ensemble (which could no longer load its policy); with it, both go.
    let alone = try runCLI(["runs", "rm", "\(member.id!)", "--yes", "--store", t.store])
    #expect(
        alone.failsWithOneErrorLine
            && alone.stderr.contains("is a member of ensemble run \(ensemble.id!) (\(ensemble.name)); delete the"),
        "\(alone.stderr)")
    #expect(try store.runs().count == 2)

    // A member of another algorithm cannot join: one line naming the runs.
    let other = try tinyExperiment(steps: 64)
    let ppo = try String(contentsOfFile: other.experiment, encoding: .utf8)
        .replacingOccurrences(of: "dqn-lstm.yaml", with: "ppo-lstm.yaml")
        .replacingOccurrences(of: "learningStarts: 100", with: "numEnvs: 2")
        .replacingOccurrences(of: "batchSize: 16", with: "nSteps: 32")
        .replacingOccurrences(of: "epsilonSteps: 200", with: "minibatchSize: 32")
    try ppo.write(toFile: other.experiment, atomically: true, encoding: .utf8)
    #expect(try runCLI(["train", other.experiment, "--store", t.store]).status == 0)
    let mixed = try runCLI(["ensemble", member.name, "tiny__ppo", "--store", t.store])
    #expect(
        mixed.failsWithOneErrorLine
            && mixed.stderr.contains("member 1 (ppo) acts on action probabilities, member 0 (dqn) on Q-values"),
        "\(mixed.stderr)")
    let both = try runCLI(["runs", "rm", "\(member.id!)", "\(ensemble.id!)", "--yes", "--store", t.store])
    #expect(both.status == 0, "\(both.stderr)")
    #expect(try store.runs().map(\.id).filter { [member.id, ensemble.id].contains($0) }.isEmpty)
    #expect(try store.runs().count == 1)  // the PPO run
}

/// A run stored by an earlier version, whose configuration lacks keys added since, still reads: they take their
/// defaults.
@Test func configurationsStoredBeforeNewKeysStillRead() throws {
    let t = try tinyExperiment(steps: 100)
    let run = try #require(try runExperiment(try Experiment.load(t.experiment)).first?.run)
    var object = try #require(try JSONSerialization.jsonObject(with: Data(run.configJSON.utf8)) as? [String: Any])
    var environment = object["environment"] as! [String: Any], market = environment["market"] as! [String: Any]
    var experiment = object["experiment"] as! [String: Any]
    market["sizing"] = nil
    for key in ["select", "patience", "walkForward", "tensorboard"] { experiment[key] = nil }
    environment["market"] = market
    object["environment"] = environment
    object["experiment"] = experiment
    object["dataSHA256"] = nil
    let old = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    #expect(throws: (any Error).self) { try JSONDecoder().decode(ResolvedConfig.self, from: Data(old.utf8)) }
    let decoded = try ResolvedConfig.stored(old)
    #expect(decoded.environment.market.sizing == SizingConfig() && decoded.experiment.select == .last)
    #expect(decoded.agent == (try ResolvedConfig.stored(run.configJSON)).agent && decoded.seed == 3)
}
