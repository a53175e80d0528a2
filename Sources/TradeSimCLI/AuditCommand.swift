import ArgumentParser
import Experiments
import Foundation

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Leakage checks on an environment's data (or a pretrain file's data and labels): one PASS / FAIL / SKIP line per check, non-zero exit on any FAIL.")

    @Argument(help: "environments/NAME.yaml, or a pretrain experiments/NAME.yaml")
    var file: String
    @Option(help: "Cut points per perturbation check.")
    var cuts: Int = 8
    @Option(help: "Seed of the cut points and perturbations.")
    var seed: UInt64 = 0

    func validate() throws {
        guard cuts >= 1 else { throw ValidationError("--cuts must be at least 1") }
    }

    func run() throws {
        let checks = try auditFile(file, cuts: cuts, seed: seed)
        for c in checks { print(c.line) }
        let failed = checks.filter { $0.outcome == .fail }.map(\.name)
        if !failed.isEmpty { throw CLIError("\(file): leakage audit failed: \(failed.joined(separator: ", "))") }
    }
}
