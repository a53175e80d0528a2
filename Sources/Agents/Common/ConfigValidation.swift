// What every agent config's `validate()` throws: one line naming the field.

/// A config value out of range.
public struct ConfigValueError: Error, CustomStringConvertible {
    public let description: String
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw ConfigValueError(description: message()) }
}
