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
