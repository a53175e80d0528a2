import Foundation
import RLCore

/// The non-tensor state of a checkpoint, `agent.json`.
struct CheckpointState<Config: Codable>: Codable {
    var algorithm: Algorithm
    var config: Config
    var spec: AgentSpec
    var rng: Xoshiro256
    var stepsDone: Int
    var updatesDone: Int
    /// Algorithm-specific counters and small vectors (e.g. the Gaussian policy's log-std and its Adam moments).
    var extra: [String: [Double]]
}

enum Checkpoint {
    static let network = "network.safetensors"
    static let stateFile = "agent.json"

    static func write<C: Codable>(_ state: CheckpointState<C>, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: directory.appendingPathComponent(stateFile), options: .atomic)
    }

    static func read<C: Codable & Equatable>(
        _ type: C.Type, from directory: URL, algorithm: Algorithm, config: C,
        spec: AgentSpec
    ) throws -> CheckpointState<C> {
        let url = directory.appendingPathComponent(stateFile)
        let state: CheckpointState<C>
        do {
            state = try JSONDecoder().decode(CheckpointState<C>.self, from: Data(contentsOf: url))
        } catch {
            throw CheckpointError("\(url.path): cannot read the agent state (\(error))")
        }
        guard state.algorithm == algorithm else {
            throw CheckpointError("\(url.path): a \(state.algorithm.rawValue) checkpoint, not \(algorithm.rawValue)")
        }
        guard state.spec == spec else {
            throw CheckpointError("\(url.path): made for \(state.spec), this agent is \(spec)")
        }
        guard state.config == config else { throw CheckpointError("\(url.path): made with another config") }
        return state
    }
}

/// A checkpoint that cannot be used: missing, unreadable, corrupt, unwritable, or made for another agent.
public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
