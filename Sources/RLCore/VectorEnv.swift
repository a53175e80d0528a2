/// Steps B copies of an environment together and resets each one as soon as its episode ends (Gymnasium's
/// "same-step" autoreset): the returned step of a finished environment carries the first observation of its next
/// episode, and the observation the episode ended on is kept in `finalObservations[i]`, so an agent can bootstrap a
/// truncated episode from it.
public struct VectorEnv<Env: Environment> {
    public private(set) var envs: [Env]
    /// For each environment, the last observation of the episode that ended on the latest `step`, else nil.
    public private(set) var finalObservations: [Env.Observation?]

    public init(_ envs: [Env]) {
        precondition(!envs.isEmpty, "VectorEnv needs at least one environment")
        self.envs = envs
        finalObservations = Array(repeating: nil, count: envs.count)
    }

    public var count: Int { envs.count }

    /// Resets every environment; environment i gets seed `seed &+ i` (or continues its own stream when seed is nil).
    public mutating func reset(seed: UInt64?) -> [Env.Observation] {
        for i in envs.indices { finalObservations[i] = nil }
        return envs.indices.map { i in envs[i].reset(seed: seed.map { $0 &+ UInt64(i) }) }
    }

    /// Steps environment i with `actions[i]`; finished environments are reset (with their own stream) at once.
    public mutating func step(_ actions: [Env.Action]) -> [Step<Env.Observation, Env.Info>] {
        precondition(actions.count == envs.count, "VectorEnv.step needs one action per environment")
        var out: [Step<Env.Observation, Env.Info>] = []
        out.reserveCapacity(envs.count)
        for i in envs.indices {
            var s = envs[i].step(actions[i])
            if s.done {
                finalObservations[i] = s.observation
                s.observation = envs[i].reset(seed: nil)
            } else {
                finalObservations[i] = nil
            }
            out.append(s)
        }
        return out
    }
}
