import Agents
import Foundation
import Yams

extension DQNConfig: Config {}
extension ReinforceConfig: Config {}
extension A2CConfig: Config {}
extension PPOConfig: Config {}

/// `agents/NAME.yaml`: an `algo:` key (dqn, reinforce, a2c, ppo) and that algorithm's config fields, decoded strictly.
public enum AgentFile {
    /// Decodes an agent file; `overrides` are laid over the file first (errors about their keys name their file).
    public static func load(_ path: String, overrides: Overrides? = nil) throws -> AgentConfig {
        let node = try StrictYAML.document(path)
        let algorithms = Algorithm.allCases.map(\.rawValue).joined(separator: ", ")
        guard let algoText = StrictYAML.layer(overrides?.node, over: node).mapping?["algo"]?.string else {
            throw ConfigError("\(path): missing key 'algo' (one of \(algorithms))")
        }
        guard let algo = Algorithm(rawValue: algoText) else {
            let setter = overrides?.node.mapping?["algo"] != nil ? overrides : nil
            throw ConfigError(
                "\(setter?.file ?? path): key '\(StrictYAML.keyPath((setter?.key ?? []) + ["algo"]))': unknown "
                    + "algorithm '\(algoText)' (one of \(algorithms))")
        }
        let config: AgentConfig
        switch algo {
        case .dqn: config = .dqn(try StrictYAML.decode(DQNConfig.self, node: node, file: path, overrides: overrides))
        case .reinforce:
            config = .reinforce(
                try StrictYAML.decode(ReinforceConfig.self, node: node, file: path, overrides: overrides))
        case .a2c: config = .a2c(try StrictYAML.decode(A2CConfig.self, node: node, file: path, overrides: overrides))
        case .ppo: config = .ppo(try StrictYAML.decode(PPOConfig.self, node: node, file: path, overrides: overrides))
        }
        do {
            try config.validate()
        } catch {
            throw ConfigError("\(StrictYAML.origin(of: path, overrides) { _ = try load(path) }): \(error)")
        }
        return config
    }
}
