/// Steps B copies of an environment together and resets each one as soon as its episode ends (Gymnasium's
/// "same-step" autoreset): the returned step of a finished environment carries the first observation of its next
/// episode, and the observation the episode ended on is kept in `finalObservations[i]`, so an agent can bootstrap a
/// truncated episode from it.
///
/// Layout: a structure of arrays. The environments' latest steps live in columns of B — `rewards`, `terminated`,
/// `truncated`, `infos` — overwritten in place by every step (after the first, nothing is allocated). The observations
/// are kept one of two ways:
/// - `reset` / `step`: as values, `observations` and `finalObservations` (any environment); what `step` returns reads
///   the columns as B `Step`s.
/// - `resetWindows` / `stepWindows` (window observations, `AgentEnvironment`): as columns, `bars` (B) and `extras`
///   (B, P), with `finalBars` / `finalExtras` for the episodes that ended. No observation value is built, so a step
///   counts no reference; an agent copies each window from the shared feature matrix at `bars[i]` (what it does with
///   an observation's `bar`).
/// Step with the one you reset with. The methods are inlinable, so that a caller's concrete environment type is stepped
/// without protocol dispatch.
public struct VectorEnv<Env: Environment> {
    public var envs: [Env] { _envs }
    /// (B) each environment's observation after the latest `reset` or `step` (for an environment whose episode ended
    /// on that step, the first observation of its next episode); empty before the first `reset`.
    public var observations: [Env.Observation] { _observations }
    /// (B) the latest step's rewards.
    public var rewards: [Double] { _rewards }
    /// (B) whether the latest step ended environment i's episode in a terminal state.
    public var terminated: [Bool] { _terminated }
    /// (B) whether the latest step cut environment i's episode short.
    public var truncated: [Bool] { _truncated }
    /// (B) the latest step's infos; empty before the first step.
    public var infos: [Env.Info] { _infos }
    /// For each environment, the last observation of the episode that ended on the latest `step`, else nil.
    public var finalObservations: [Env.Observation?] { _finalObservations }

    // The columns, written only here (internal, for the inlinable methods).
    @usableFromInline var _envs: [Env], _observations: [Env.Observation], _rewards: [Double], _terminated: [Bool]
    @usableFromInline var _truncated: [Bool], _infos: [Env.Info], _finalObservations: [Env.Observation?]
    // The window columns (`stepWindows`): P, bars (B), extras (B, P), final bars (B) and extras (B, P), features (B).
    @usableFromInline var _extrasWidth = 0, _bars: [Int] = [], _extras: [Double] = [], _finalBars: [Int?] = []
    @usableFromInline var _finalExtras: [Double] = [], _features: [[Float]] = []

    @inlinable
    public init(_ envs: [Env]) {
        precondition(!envs.isEmpty, "VectorEnv needs at least one environment")
        _envs = envs
        _observations = []
        _rewards = Array(repeating: 0, count: envs.count)
        _terminated = Array(repeating: false, count: envs.count)
        _truncated = Array(repeating: false, count: envs.count)
        _infos = []
        _finalObservations = Array(repeating: nil, count: envs.count)
    }

    @inlinable public var count: Int { _envs.count }

    /// Resets every environment; environment i gets seed `seed &+ i` (or continues its own stream when seed is nil).
    @inlinable
    public mutating func reset(seed: UInt64?) -> [Env.Observation] {
        for i in _envs.indices { _finalObservations[i] = nil }
        _bars = []
        _observations = _envs.indices.map { i in _envs[i].reset(seed: seed.map { $0 &+ UInt64(i) }) }
        return _observations
    }

    /// Steps environment i with `actions[i]`; finished environments are reset (with their own stream) at once.
    @inlinable @discardableResult
    public mutating func step(_ actions: [Env.Action]) -> VectorSteps<Env.Observation, Env.Info> {
        precondition(actions.count == _envs.count, "VectorEnv.step needs one action per environment")
        precondition(_observations.count == _envs.count, "VectorEnv.step before reset")
        for i in _envs.indices {
            let s = _envs[i].step(actions[i])
            record(s, at: i)
            if s.done {
                _finalObservations[i] = s.observation
                _observations[i] = _envs[i].reset(seed: nil)
            } else {
                _finalObservations[i] = nil
                _observations[i] = s.observation
            }
        }
        return VectorSteps(
            observations: _observations, rewards: _rewards, terminated: _terminated,
            truncated: _truncated, infos: _infos)
    }

    /// Writes environment i's step to the columns.
    @inlinable @inline(__always)
    mutating func record<O>(_ s: Step<O, Env.Info>, at i: Int) {
        _rewards[i] = s.reward
        _terminated[i] = s.terminated
        _truncated[i] = s.truncated
        if i < _infos.count { _infos[i] = s.info } else { _infos.append(s.info) }
    }
}

extension VectorEnv where Env: AgentEnvironment {
    /// P: the extras of one observation.
    @inlinable public var extrasWidth: Int { _extrasWidth }
    /// (B) the bar of each environment's observation after the latest `resetWindows` or `stepWindows` (of the next
    /// episode's first observation when that step ended one).
    @inlinable public var bars: [Int] { _bars }
    /// (B, P) the extras of those observations, row-major.
    @inlinable public var extras: [Double] { _extras }
    /// (B) for each environment, the bar of the last observation of the episode that ended on the latest
    /// `stepWindows`, else nil.
    @inlinable public var finalBars: [Int?] { _finalBars }
    /// (B, P) the extras of those last observations; row i holds meaning only where `finalBars[i]` is not nil.
    @inlinable public var finalExtras: [Double] { _finalExtras }
    /// (B) the feature matrix each environment's windows are rows of.
    @inlinable public var features: [[Float]] { _features }

    /// `reset`, keeping the observations as the window columns.
    @inlinable
    public mutating func resetWindows(seed: UInt64?) {
        let observations = reset(seed: seed)
        _extrasWidth = observations[0].extras.count
        _bars = observations.map(\.bar)
        _extras = observations.flatMap(\.extras)
        _features = observations.map(\.features)
        _observations = []
        _finalBars = Array(repeating: nil, count: count)
        _finalExtras = Array(repeating: 0, count: count * _extrasWidth)
        precondition(_extras.count == count * _extrasWidth, "VectorEnv: the environments' extras differ in width")
    }

    /// `step`, keeping the observations as the window columns: the environments step together
    /// (`AgentEnvironment.step(_:_:into:)`), then those whose episode ended are reset.
    @inlinable
    public mutating func stepWindows(_ actions: [Env.Action]) {
        precondition(actions.count == _envs.count, "VectorEnv.stepWindows needs one action per environment")
        precondition(_bars.count == _envs.count, "VectorEnv.stepWindows before resetWindows")
        let B = count, P = _extrasWidth
        func stepAll(infos: UnsafeMutablePointer<Env.Info>) {
            _envs.withUnsafeMutableBufferPointer { envs in
                _rewards.withUnsafeMutableBufferPointer { rewards in
                    _terminated.withUnsafeMutableBufferPointer { terminated in
                        _truncated.withUnsafeMutableBufferPointer { truncated in
                            _bars.withUnsafeMutableBufferPointer { bars in
                                _extras.withUnsafeMutableBufferPointer { extras in
                                    actions.withUnsafeBufferPointer { actions in
                                        Env.step(
                                            envs, actions,
                                            into: StepColumns(
                                                rewards: rewards.baseAddress!, terminated: terminated.baseAddress!,
                                                truncated: truncated.baseAddress!, bars: bars.baseAddress!,
                                                infos: infos, extras: extras.baseAddress, extrasWidth: P))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // The step initializes the infos: the latest ones are deinitialized in place (none before the first step).
        if _infos.count == B {
            _infos.withUnsafeMutableBufferPointer { infos in
                infos.baseAddress!.deinitialize(count: B)
                stepAll(infos: infos.baseAddress!)
            }
        } else {
            _infos = Array(unsafeUninitializedCapacity: B) { infos, initialized in
                stepAll(infos: infos.baseAddress!)
                initialized = B
            }
        }
        _finalBars.withUnsafeMutableBufferPointer { finalBars in for i in 0..<B { finalBars[i] = nil } }
        for i in 0..<B where _terminated[i] || _truncated[i] {
            _finalBars[i] = _bars[i]
            for p in i * P..<(i + 1) * P { _finalExtras[p] = _extras[p] }
            let first = _envs[i].reset(seed: nil)
            _bars[i] = first.bar
            for (p, v) in first.extras.enumerated() { _extras[i * P + p] = v }
            _features[i] = first.features
        }
    }
}

/// The latest step of B environments, read from `VectorEnv`'s columns as a collection of B `Step`s.
public struct VectorSteps<Observation, Info>: RandomAccessCollection {
    /// (B) each
    public let observations: [Observation], rewards: [Double], terminated: [Bool], truncated: [Bool], infos: [Info]

    @inlinable
    init(observations: [Observation], rewards: [Double], terminated: [Bool], truncated: [Bool], infos: [Info]) {
        self.observations = observations
        self.rewards = rewards
        self.terminated = terminated
        self.truncated = truncated
        self.infos = infos
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { rewards.count }

    @inlinable
    public subscript(i: Int) -> Step<Observation, Info> {
        Step(
            observation: observations[i], reward: rewards[i], terminated: terminated[i], truncated: truncated[i],
            info: infos[i])
    }
}
