import NeuralCore

// The numeric check every agent's update passes through before its optimizer step (DQN's `update`, the policy
// agents' `ActorCritic.step`): a non-finite loss or gradient is caught there, before it can reach the weights.

/// What training does when an update's loss or gradient is not finite (NaN or ±∞).
public enum NonFinitePolicy: String, Codable, Sendable, CaseIterable {
    /// Stop the run: no later update is applied, and the trainer fails the run with a message.
    case stop
    /// Skip that batch (the weights and the optimizer state stay as they were) and count it.
    case skip
}

/// Collects the non-finite updates of a training session. The trainer installs one with `NumericGuard.$current`
/// around `Agent.train`; without one, non-finite updates are still never applied (and not counted).
/// Used from the training thread only.
public final class NumericGuard: @unchecked Sendable {
    /// The guard of the training that runs on this thread.
    @TaskLocal public static var current: NumericGuard?

    public let policy: NonFinitePolicy
    /// Non-finite updates seen so far (each one was not applied).
    public private(set) var nonFiniteUpdates = 0
    /// Under `.stop`, what the first non-finite update looked like, e.g. `loss nan, gradient norm nan`; nil until then.
    public private(set) var fault: String?

    public init(policy: NonFinitePolicy) { self.policy = policy }

    /// Records one update (`finite`: its loss and gradients are all finite; `details` says what they were); returns
    /// whether it may be applied.
    func admit(finite: Bool, details: @autoclosure () -> String) -> Bool {
        if finite { return fault == nil }
        nonFiniteUpdates += 1
        if policy == .stop && fault == nil { fault = details() }
        return false
    }
}

extension EncoderNetwork {
    /// Clips the network's gradients and `extraGradients` (those of parameters trained beside it, such as a Gaussian
    /// policy's log-std) together to the global norm `maxGradNorm` (0: no clipping), as SB3's `clip_grad_norm_` over
    /// all the policy's parameters, and checks the update: `loss` and the norm must be finite (one NaN or ±∞ in any
    /// gradient makes the norm non-finite). Returns the global norm before clipping and whether the optimizer step may
    /// be applied; the current `NumericGuard` counts a refused update.
    func clipAndCheck(maxGradNorm: Double, loss: Float = 0, extraGradients: inout [Float]) -> (norm: Float, apply: Bool)
    {
        let norm = clipGradients(maxNorm: maxGradNorm > 0 ? Float(maxGradNorm) : .infinity, with: &extraGradients)
        let finite = loss.isFinite && norm.isFinite
        guard let guardian = NumericGuard.current else { return (norm, finite) }
        return (norm, guardian.admit(finite: finite, details: "loss \(loss), gradient norm \(norm)"))
    }

    /// `clipAndCheck(maxGradNorm:loss:extraGradients:)` of the network's gradients alone.
    func clipAndCheck(maxGradNorm: Double, loss: Float) -> (norm: Float, apply: Bool) {
        var none: [Float] = []
        return clipAndCheck(maxGradNorm: maxGradNorm, loss: loss, extraGradients: &none)
    }
}
