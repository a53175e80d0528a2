/// A value that changes with the training step: ε for exploration, learning rates, entropy coefficients.
public enum Schedule: Codable, Equatable, Sendable {
    /// The same value at every step.
    case constant(Double)
    /// From `start` to `end` linearly over `steps` steps, then `end`.
    case linear(start: Double, end: Double, steps: Int)
    /// `start · decay^step`, never below `end`.
    case exponential(start: Double, end: Double, decay: Double)

    /// The value at training step `step` (0-based).
    public func value(at step: Int) -> Double {
        switch self {
        case .constant(let v):
            return v
        case .linear(let start, let end, let steps):
            guard steps > 0, step < steps else { return end }
            return start + (end - start) * Double(max(step, 0)) / Double(steps)
        case .exponential(let start, let end, let decay):
            var v = start
            var k = 0
            // repeated multiplication keeps the value bit-identical across platforms' pow implementations
            while k < step, v > end { v *= decay; k += 1 }
            return max(v, end)
        }
    }
}

/// The shape of a decaying schedule; encodes as its raw string.
public enum ScheduleKind: String, Codable, Sendable, CaseIterable {
    /// Linear from start to end over the given steps.
    case linear
    /// Geometric from start to end over the given steps (then constant).
    case exponential
}
