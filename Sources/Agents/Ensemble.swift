import Foundation
import NeuralCore
import RLCore

// An ensemble of trained agents, typically the seeds of one configuration: for each observation it averages the
// members' scores (`Agent.actionScores`) and acts greedily on the mean — the argmax of the mean Q-values (DQN), the
// argmax of the mean action probabilities (categorical policies), or the mean of the Gaussian means squashed as the
// members squash (continuous policies). It is evaluated, compared and replayed like any agent; it is never trained
// or saved: it is rebuilt from its members' checkpoints.
//
// Shapes: N members; scores (K) for K discrete actions, (A) for A continuous values.

/// Agents that cannot form an ensemble: none, or members made for other environment shapes or with another kind of
/// policy than member 0 (members are numbered in the order given).
public struct EnsembleError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The greedy policy of the mean scores of N members that share the spec and the kind of scores (`scoreKind`: DQN
/// with DQN, categorical with categorical, Gaussian with Gaussian of the same squash; policy-gradient algorithms may
/// be mixed). With N identical members it acts exactly as the member: the mean of N equal scores is that score.
///
/// - `act(_:deterministic: true)`: the greedy action of the mean scores. `deterministic: false` is a precondition
///   failure: nothing acts stochastically outside training, and a stochastic ensemble would need choices no caller
///   uses (which ε for DQN, a sampler of the mixture and an RNG of its own).
/// - `train` is a precondition failure (the trainer never gets an ensemble; train the members), `save` and `load`
///   throw an `EnsembleError` (load each member's checkpoint, then build the ensemble).
/// - `stepsDone` and `updatesDone` are the largest of the members' (equal to each member's when, as for the seeds of
///   one configuration, they trained alike); `profile` is empty; `networks` are the members' in member order.
public final class EnsembleAgent: Agent {
    /// The N ≥ 1 members, in the order given.
    public let members: [any Agent]
    public let spec: AgentSpec
    public let scoreKind: ActionScoreKind

    /// Throws an `EnsembleError` when `members` is empty or a member's spec or score kind differs from member 0's.
    public init(members: [any Agent]) throws {
        guard let first = members.first else { throw EnsembleError("an ensemble needs at least one member") }
        for (i, member) in members.enumerated().dropFirst() {
            guard member.spec == first.spec else {
                throw EnsembleError("ensemble member \(i) is made for \(member.spec), member 0 for \(first.spec)")
            }
            guard member.scoreKind == first.scoreKind else {
                throw EnsembleError(
                    "ensemble member \(i) (\(member.algorithm.rawValue)) acts on \(member.scoreKind), "
                        + "member 0 (\(first.algorithm.rawValue)) on \(first.scoreKind)")
            }
        }
        self.members = members
        spec = first.spec
        scoreKind = first.scoreKind
    }

    /// Member 0's algorithm.
    public var algorithm: Algorithm { members[0].algorithm }
    public var stepsDone: Int { members.map(\.stepsDone).max()! }
    public var updatesDone: Int { members.map(\.updatesDone).max()! }
    public var profile: TrainingProfile { TrainingProfile() }
    public var networks: [EncoderNetwork] { members.flatMap(\.networks) }

    /// The mean of the members' scores (K or A), as s₀ + (1/N) Σᵢ (sᵢ − s₀) with s₀ member 0's: members with equal
    /// scores give exactly those scores.
    public func actionScores<O: WindowObservation>(_ observation: O) -> [Double] {
        let first = members[0].actionScores(observation)
        var deviations = [Double](repeating: 0, count: first.count)
        for member in members.dropFirst() {
            let scores = member.actionScores(observation)
            for j in first.indices { deviations[j] += scores[j] - first[j] }
        }
        let n = Double(members.count)
        return first.indices.map { first[$0] + deviations[$0] / n }
    }

    public func act<O: WindowObservation>(_ observation: O, deterministic: Bool) -> AgentAction {
        if !deterministic { fatalError("an ensemble acts only greedily (deterministic: true)") }
        return scoreKind.greedyAction(actionScores(observation))
    }

    public func train<Env: AgentEnvironment>(
        env: Env, steps: Int, seed: UInt64,
        progress: (TrainingEvent<Env.Info>) -> Void
    ) {
        fatalError("an ensemble is not trained: train its members")
    }

    public func save(to directory: URL) throws {
        throw EnsembleError("\(directory.path): an ensemble has no checkpoint of its own; save its members")
    }

    public func load(from directory: URL) throws {
        throw EnsembleError(
            "\(directory.path): an ensemble has no checkpoint of its own; load its members, then build it")
    }
}
