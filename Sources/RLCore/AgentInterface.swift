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
    /// Steps `envs[i]` with `actions[i]` for every i and writes each step to row i of `columns`, without resetting
    /// any environment (what `VectorEnv.stepWindows` calls). The default steps them one after another through `step`.
    static func step(
        _ envs: UnsafeMutableBufferPointer<Self>, _ actions: UnsafeBufferPointer<Action>,
        into columns: StepColumns<Info>)
}

extension AgentEnvironment {
    public static func step(
        _ envs: UnsafeMutableBufferPointer<Self>, _ actions: UnsafeBufferPointer<Action>,
        into columns: StepColumns<Info>
    ) {
        for i in envs.indices {
            let s = envs[i].step(actions[i])
            if let row = columns.extras(row: i) { for (p, v) in s.observation.extras.enumerated() { row[p] = v } }
            columns.record(
                Step(
                    observation: s.observation.bar, reward: s.reward, terminated: s.terminated,
                    truncated: s.truncated, info: s.info),
                at: i)
        }
    }
}

/// Where a batch step of B environments writes (`AgentEnvironment.step(_:_:into:)`): row i of each column belongs to
/// environment i, and holds its step with the observation kept as its bar and extras.
public struct StepColumns<Info> {
    /// (B) each.
    public let rewards: UnsafeMutablePointer<Double>, terminated: UnsafeMutablePointer<Bool>
    public let truncated: UnsafeMutablePointer<Bool>, bars: UnsafeMutablePointer<Int>
    /// (B) uninitialized memory on entry: the step initializes every row.
    public let infos: UnsafeMutablePointer<Info>
    /// (B, P) the observations' extras; nil when P = 0.
    public let extras: UnsafeMutablePointer<Double>?
    /// P
    public let extrasWidth: Int

    @inlinable
    public init(
        rewards: UnsafeMutablePointer<Double>, terminated: UnsafeMutablePointer<Bool>,
        truncated: UnsafeMutablePointer<Bool>, bars: UnsafeMutablePointer<Int>, infos: UnsafeMutablePointer<Info>,
        extras: UnsafeMutablePointer<Double>?, extrasWidth: Int
    ) {
        self.rewards = rewards
        self.terminated = terminated
        self.truncated = truncated
        self.bars = bars
        self.infos = infos
        self.extras = extras
        self.extrasWidth = extrasWidth
    }

    /// Row i of the extras (P), nil when P = 0.
    @inlinable public func extras(row i: Int) -> UnsafeMutablePointer<Double>? { extras.map { $0 + i * extrasWidth } }

    /// Writes step s (its observation as its bar) to row i; the extras are the stepper's to write.
    @inlinable @inline(__always)
    public func record(_ s: Step<Int, Info>, at i: Int) {
        rewards[i] = s.reward
        terminated[i] = s.terminated
        truncated[i] = s.truncated
        bars[i] = s.observation
        (infos + i).initialize(to: s.info)
    }
}
