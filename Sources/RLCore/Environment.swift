/// One transition of an environment, Gymnasium's `(obs, reward, terminated, truncated, info)` with types.
///
/// `terminated` means the episode reached a terminal state of the task (e.g. equity fell below its floor): agents must
/// not bootstrap through it. `truncated` means the episode was cut short from outside the task (the data ran out, a
/// time limit): agents bootstrap from the value of `observation`.
public struct Step<Observation, Info> {
    public var observation: Observation
    public var reward: Double
    public var terminated: Bool
    public var truncated: Bool
    public var info: Info

    @inlinable
    public init(observation: Observation, reward: Double, terminated: Bool, truncated: Bool, info: Info) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
        self.info = info
    }

    /// The episode is over for either reason.
    @inlinable public var done: Bool { terminated || truncated }
}

/// A Gymnasium-style environment with typed observations, actions and info.
///
/// Contract: `reset(seed:)` must be called before the first `step`; after a step that is `terminated` or `truncated`
/// the next call must be `reset`. `reset(seed: s)` with the same `s` gives the same observation and, under the same
/// actions, the same steps. `reset(seed: nil)` continues the environment's own random stream.
public protocol Environment {
    associatedtype Observation
    associatedtype Action
    associatedtype Info
    associatedtype ActionSpace: Space where ActionSpace.Element == Action

    var actionSpace: ActionSpace { get }

    mutating func reset(seed: UInt64?) -> Observation
    mutating func step(_ action: Action) -> Step<Observation, Info>
    /// `step(action)`, written over `step` (a step of this environment or of any other of its type): the same values.
    /// An environment whose observations hold a reference may write into the one `step` holds when nothing else holds
    /// it, so that a loop that steps in place counts no reference. The default assigns `step(action)`.
    mutating func step(_ action: Action, into step: inout Step<Observation, Info>)
}

extension Environment {
    @inlinable
    public mutating func step(_ action: Action, into step: inout Step<Observation, Info>) { step = self.step(action) }
}
