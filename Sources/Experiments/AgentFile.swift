import Agents
import Foundation
import Yams

extension DQNConfig: Config {}
extension ReinforceConfig: Config {}
extension A2CConfig: Config {}
extension PPOConfig: Config {}

/// `agents/NAME.yaml`: an `algo:` key (dqn, reinforce, a2c, ppo) and that algorithm's config fields, decoded strictly.
public enum AgentFile {
    /// Decodes an agent file; `overrides` (a YAML mapping) is laid over the file first.
    public static func load(_ path: String, overrides: Node? = nil) throws -> AgentConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError("\(path): cannot read the file")
        }
        let node: Node
        do {
            node = try StrictYAML.layer(overrides, over: Yams.compose(yaml: text) ?? Node.mapping(.init([])))
        } catch let error as YamlError {
            throw ConfigError("\(path): invalid YAML: \(StrictYAML.yamlProblem(error))")
        }
        guard let algoText = node.mapping?["algo"]?.string else {
            throw ConfigError(
                "\(path): missing key 'algo' (one of \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let algo = Algorithm(rawValue: algoText) else {
            throw ConfigError(
                "\(path): key 'algo': unknown algorithm '\(algoText)' (one of "
                    + "\(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        let config: AgentConfig
        switch algo {
        case .dqn: config = .dqn(try StrictYAML.decode(DQNConfig.self, node: node, file: path))
        case .reinforce: config = .reinforce(try StrictYAML.decode(ReinforceConfig.self, node: node, file: path))
        case .a2c: config = .a2c(try StrictYAML.decode(A2CConfig.self, node: node, file: path))
        case .ppo: config = .ppo(try StrictYAML.decode(PPOConfig.self, node: node, file: path))
        }
        do {
            try config.validate()
        } catch {
            throw ConfigError("\(path): \(error)")
        }
        return config
    }
}
