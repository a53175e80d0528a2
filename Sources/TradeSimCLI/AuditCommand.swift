import ArgumentParser
import Experiments
import Foundation
import Sweeps

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Leakage checks on an environment's data (or a pretrain file's data and labels, or every environment and "
            + "walk-forward window a training experiment or sweep trains on): one PASS / FAIL / SKIP line per check, "
            + "non-zero exit on any FAIL."
    )

    @Argument(help: "environments/NAME.yaml, or experiments/NAME.yaml (training, sweep, walk-forward or pretrain)")
    var file: String
    @Option(
        parsing: .unconditional,
        help: "Cut points per perturbation check (at most 1,000, and at most the bars the data can be cut at).")
    var cuts: Int = 8
    @Option(parsing: .unconditional, help: "Seed of the cut points and perturbations.")
    var seed: UInt64 = 0

    func validate() throws {
        guard cuts >= 1 else { throw ValidationError("--cuts must be at least 1") }
        guard cuts <= LeakageAudit.maxCuts else {
            throw ValidationError("--cuts must be at most \(LeakageAudit.maxCuts), got \(cuts)")
        }
    }

    func run() throws {
        var checks: [AuditCheck] = []
        if isTrainingExperiment(file) {
            for (label, audit) in try auditExperiment(file, cuts: cuts, seed: seed) {
                if !label.isEmpty { print(label + ":") }
                for c in audit { print((label.isEmpty ? "" : "  ") + c.line) }
                checks += audit
            }
        } else {
            checks = try auditFile(file, cuts: cuts, seed: seed)
            for c in checks { print(c.line) }
        }
        let failed = checks.filter { $0.outcome == .fail }.map(\.name)
        if !failed.isEmpty { throw CLIError("\(file): leakage audit failed: \(failed.joined(separator: ", "))") }
    }
}

/// Whether `path` is a training experiment (it names an agent), whose environments `auditExperiment` audits; an
/// environment or pretrain file is audited by `auditFile`.
func isTrainingExperiment(_ path: String) -> Bool {
    (try? StrictYAML.document(path))?.mapping?["agent"] != nil
}
