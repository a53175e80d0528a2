import Foundation

// What every agent config's `validate()` throws: one line naming the field.

/// An agent config that cannot work: a value out of range, or values that do not fit together (e.g.
/// `encoder.freeze` without `encoder.from`, or a pretrained encoder of other sizes than `encoder`'s).
public struct AgentConfigError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Throws `message` as an `AgentConfigError` unless `condition` holds.
func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw AgentConfigError(message()) }
}

/// Throws unless `rewardScale` is positive (it multiplies every reward; 0 would leave nothing to learn from).
func expectRewardScale(_ rewardScale: Double) throws {
    try expect(rewardScale > 0, "rewardScale must be > 0 (it multiplies every reward), not \(rewardScale)")
}

/// Throws unless `value` is at most `bound`: `KEY must be at most BOUND, not VALUE`.
func expect(_ key: String, _ value: Int, atMost bound: Int) throws {
    try expect(value <= bound, "\(key) must be at most \(bound), not \(value)")
}

/// Throws unless `numEnvs` (≥ 1) and the rollout `numEnvs × nSteps` (A2C, PPO) are within `AgentLimits`.
func expectRollout(numEnvs: Int, nSteps: Int) throws {
    try expect("numEnvs", numEnvs, atMost: AgentLimits.environments)
    try expect(
        nSteps <= AgentLimits.rollout / numEnvs,
        "numEnvs × nSteps (the rollout) must be at most \(AgentLimits.rollout), not \(numEnvs) × \(nSteps)")
}

/// Throws unless `bytes` fit in this machine's memory: `WHAT needs at least … GB PURPOSE, more than this machine's …
/// GB of memory`.
func expectMemory(_ bytes: Double, _ what: @autoclosure () -> String, _ purpose: String) throws {
    let memory = Double(ProcessInfo.processInfo.physicalMemory)
    func gigabytes(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }
    try expect(
        bytes <= memory,
        "\(what()) needs at least \(gigabytes(bytes)) \(purpose), more than this machine's \(gigabytes(memory)) of "
            + "memory")
}

/// Upper bounds of the agent configs' sizes and counts. Far beyond any sensible use (the shipped agents use 32–64
/// units, 1–2 layers, 8 environments, batches of 64–256), they turn a typo into one error line instead of a failed
/// allocation or an endless update; within them, `AgentConfig.checkMemory` checks the networks against the machine's
/// memory once the environment's width and window are known.
public enum AgentLimits {
    /// `encoder.embedding` and `encoder.hidden`.
    public static let width = 4_096
    /// `encoder.layers`.
    public static let layers = 16
    /// `encoder.kernel`.
    public static let kernel = 64
    /// `numEnvs`: environments stepped together.
    public static let environments = 1_024
    /// `batchSize` (DQN) and `minibatchSize` (PPO, REINFORCE): rows of one forward and backward.
    public static let batch = 65_536
    /// `numEnvs × nSteps` (A2C, PPO): entries of one rollout.
    public static let rollout = 1_048_576
    /// DQN's `nStep` and PPO's `epochs`.
    public static let nStep = 1_000
    public static let epochs = 1_000
}
