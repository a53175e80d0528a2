/// One clear line about a bad configuration: a configuration file (`FILE:LINE: what is wrong with which key`), or a
/// command's option that asks for something the configuration cannot give (`--years: 1980 has no bars in …`).
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A stored run that is not in the state a command needs: finished when it should continue, still running, without
/// the checkpoint, episode or configuration asked for, or of another kind (a pretrain run where a policy is needed).
public struct RunStateError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A replayed episode that differs from what the store recorded (`tradesim replay --verify`).
public struct ReplayMismatchError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A training run stopped by a non-finite loss or gradient under `nonFinite: stop`.
public struct NonFiniteUpdateError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
