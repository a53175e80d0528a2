/// On-policy rollouts of S steps × B environments, stored time-major (entry t·B + b), holding bar indices and the
/// small per-step state (never windows; `features` references the shared (D,F) matrix): bar, extras (P), action
/// (Adim floats: the index for a categorical policy, the raw Gaussian sample for a continuous one), log π(a|s), V(s),
/// reward, terminated, truncated, and V(final observation) for truncated steps. `computeAdvantages` adds GAE(λ)
/// advantages and returns. Arrays keep their capacity across `clear()`, so steady-state collection does not allocate.
public struct RolloutBuffer {
    /// B
    public let envs: Int
    /// P
    public let extrasWidth: Int
    /// Floats per stored action.
    public let actionWidth: Int
    public private(set) var features: [Float] = []
    public var bars: [Int] = []
    public var extras: [Float] = []
    public var actions: [Float] = []
    public var logProbs: [Float] = []
    public var values: [Float] = []
    public var rewards: [Float] = []
    public var terminated: [Bool] = []
    public var truncated: [Bool] = []
    /// V(final observation) where the step was truncated, else 0.
    public var bootstrapValues: [Float] = []
    public var advantages: [Float] = []
    public var returns: [Float] = []

    public init(envs: Int, extrasWidth: Int, actionWidth: Int, reserve steps: Int = 0) {
        self.envs = envs; self.extrasWidth = extrasWidth; self.actionWidth = actionWidth
        let k = steps * envs
        do {
            bars.reserveCapacity(k); values.reserveCapacity(k); logProbs.reserveCapacity(k); rewards.reserveCapacity(k)
            terminated.reserveCapacity(k); truncated.reserveCapacity(k); bootstrapValues.reserveCapacity(k)
            advantages.reserveCapacity(k); returns.reserveCapacity(k)
            extras.reserveCapacity(k * extrasWidth); actions.reserveCapacity(k * actionWidth)
        }
    }

    /// S: complete time steps stored.
    public var steps: Int { rewards.count / envs }
    /// S·B entries.
    public var count: Int { rewards.count }

    public mutating func attach(features f: [Float]) {
        if features.isEmpty { features = f; return }
        precondition(f.count == features.count, "rollout entries must share one feature matrix")
    }

    public mutating func clear() {
        bars.removeAll(keepingCapacity: true); extras.removeAll(keepingCapacity: true)
        actions.removeAll(keepingCapacity: true); logProbs.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true); rewards.removeAll(keepingCapacity: true)
        terminated.removeAll(keepingCapacity: true); truncated.removeAll(keepingCapacity: true)
        bootstrapValues.removeAll(keepingCapacity: true)
        advantages.removeAll(keepingCapacity: true); returns.removeAll(keepingCapacity: true)
    }

    /// Computes `advantages` and `returns` (= advantages + values) by GAE(λ) with `lastValues` (B) = V of each
    /// environment's observation after the last stored step.
    public mutating func computeAdvantages(lastValues: [Float], gamma: Float, lambda: Float) {
        precondition(lastValues.count == envs && count % envs == 0, "GAE needs whole time steps and B last values")
        advantages = generalizedAdvantageEstimates(
            rewards: rewards, values: values, terminated: terminated,
            truncated: truncated, bootstrapValues: bootstrapValues,
            lastValues: lastValues, envs: envs, gamma: gamma, lambda: lambda,
            into: advantages)
        returns.removeAll(keepingCapacity: true)
        for k in 0..<count { returns.append(advantages[k] + values[k]) }
    }
}

/// GAE(λ) (Schulman et al. 2016) over S×B time-major steps:
///   δ_t = r_t + γ·V_next(t) − V(s_t),  A_t = δ_t + γλ·(1 − done_t)·A_{t+1},  A_S = 0,
/// where V_next(t) = 0 if step t terminated, V(final observation) (`bootstrapValues`) if it was truncated, else
/// V(s_{t+1}) (`values` of step t+1, or `lastValues` after the last step). done_t = terminated ∨ truncated cuts the
/// recursion: the next stored step belongs to the next episode. λ = 1 gives the Monte Carlo / n-step return minus V.
/// `into` is reused as the output buffer (its capacity is kept).
public func generalizedAdvantageEstimates(
    rewards: [Float], values: [Float], terminated: [Bool], truncated: [Bool],
    bootstrapValues: [Float], lastValues: [Float], envs B: Int,
    gamma: Float, lambda: Float, into out: [Float] = []
) -> [Float] {
    let n = rewards.count, S = n / B
    var advantages = out
    advantages.removeAll(keepingCapacity: true)
    advantages.append(contentsOf: repeatElement(0, count: n))
    for b in 0..<B {
        var next: Float = 0
        for t in stride(from: S - 1, through: 0, by: -1) {
            let k = t * B + b
            let nextValue: Float =
                terminated[k] ? 0 : truncated[k] ? bootstrapValues[k] : (t == S - 1 ? lastValues[b] : values[k + B])
            let delta = rewards[k] + gamma * nextValue - values[k]
            let carry: Float = terminated[k] || truncated[k] ? 0 : next
            next = delta + gamma * lambda * carry
            advantages[k] = next
        }
    }
    return advantages
}
