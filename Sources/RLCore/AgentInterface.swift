/// An observation made of the last T rows of a feature matrix that the environment shares with every observation, plus
/// P per-step values (e.g. portfolio weights). Agents copy the window into their own input buffers and store only `bar`
/// and `extras` in replay, never the window itself.
public protocol WindowObservation {
    /// (D, F) the whole feature matrix, row-major; shared storage, not a copy.
    var features: [Float] { get }
    /// t: the last row of the window.
    var bar: Int { get }
    /// T
    var window: Int { get }
    /// F
    var width: Int { get }
    /// (P) values that belong to this step only, appended by agents to every row of the window.
    var extras: [Double] { get }
}

/// An environment whose observations are windows and whose actions agents can build from a discrete index (DQN and
/// categorical policies) or from a vector of continuous values (Gaussian / softmax-weight policies).
public protocol AgentEnvironment: Environment where Observation: WindowObservation {
    /// K: the number of discrete actions, 0 when the environment takes only continuous actions.
    var discreteActionCount: Int { get }
    /// A: the length of a continuous action vector.
    var continuousActionCount: Int { get }
    /// The action for discrete index k (0 ≤ k < K).
    func action(index k: Int) -> Action
    /// The action for a continuous vector (A); the environment projects it onto its constraints.
    func action(continuous values: [Double]) -> Action
    /// `step` without building the observation: writes its `extras` (P) at `extras[offset...]` and returns its `bar` in
    /// place of it (what `VectorEnv.stepWindows` keeps of an observation).
    mutating func step(_ action: Action, extras: inout [Double], at offset: Int) -> Step<Int, Info>
}

extension AgentEnvironment {
    /// Through `step(_:)`, for environments without a way of their own.
    public mutating func step(_ action: Action, extras: inout [Double], at offset: Int) -> Step<Int, Info> {
        let s = step(action)
        for (p, v) in s.observation.extras.enumerated() { extras[offset + p] = v }
        return Step(
            observation: s.observation.bar, reward: s.reward, terminated: s.terminated, truncated: s.truncated,
            info: s.info)
    }
}
