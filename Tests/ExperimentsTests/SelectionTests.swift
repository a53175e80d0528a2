import Foundation
import Testing

@testable import Experiments
@testable import RunStore

/// A tiny experiment with `select: bestValidation` (and `patience`), validation every 50 steps.
func selectingExperiment(patience: Int) throws -> (dir: String, experiment: String, store: String) {
    let t = try tinyExperiment(steps: 400)
    let yaml = try String(contentsOfFile: t.experiment, encoding: .utf8)
        .replacingOccurrences(
            of: "evaluateEvery: 150", with: "evaluateEvery: 50\nselect: bestValidation\npatience: \(patience)")
    try yaml.write(toFile: t.experiment, atomically: true, encoding: .utf8)
    return t
}

/// With `select: bestValidation` the checkpoint of the best validation Sharpe among the evaluation points (and the
/// end) becomes the run's policy: the store records its step, and evaluate uses it.
@Test func bestValidationCheckpointBecomesThePolicy() throws {
    let t = try selectingExperiment(patience: 0)
    let r = try runCLI(["train", t.experiment])
    #expect(r.status == 0, "\(r.stderr)")
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    // The evaluations of the training (the final evaluateOn look repeats the chosen one's step).
    let sharpes = try store.metrics(runId: run.id!, key: "eval/validation/sharpe").filter { $0.globalStep % 50 == 0 }
    var best: (step: Int64, sharpe: Double)?
    var seen = Set<Int64>()
    for m in sharpes where seen.insert(m.globalStep).inserted {
        if best == nil || m.value > best!.sharpe { best = (m.globalStep, m.value) }
    }
    #expect(Set(sharpes.map(\.globalStep)).isSuperset(of: [50, 100, 150, 200, 250, 300, 350, 400]))
    let chosen = try #require(best)
    #expect(run.policyStep == (chosen.step == 400 ? nil : chosen.step))
    // Every evaluation point has a checkpoint, so the choice can be restored.
    let steps = Set(try store.checkpoints(runId: run.id!).map(\.globalStep))
    #expect(steps.isSuperset(of: [50, 100, 150, 200, 250, 300, 350, 400]))
    #expect(try SavedRun(run, store: store).step == chosen.step)
    let evaluated = try runCLI(["evaluate", run.name, "--store", t.store])
    #expect(
        evaluated.status == 0 && evaluated.stdout.contains("checkpoint at step \(chosen.step)"), "\(evaluated.stdout)")
    #expect(r.stderr.contains("the policy is the step-\(chosen.step) checkpoint"), "\(r.stderr)")
    // `runs` shows the policy's validation Sharpe, not the last evaluation's
    let listed = try runCLI(["runs", "--store", t.store])
    let row = try #require(listed.stdout.split(separator: "\n").first { $0.contains(run.name) })
    let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    #expect(cells.contains(String(format: "%.4g", chosen.sharpe)), "\(row)")
    #expect(row.contains("(policy \(chosen.step))") == (chosen.step != 400), "\(row)")
}

/// `patience: k` stops training after k validation evaluations without a better Sharpe.
@Test func patienceStopsTrainingEarly() throws {
    let t = try selectingExperiment(patience: 1)
    let r = try runCLI(["train", t.experiment])
    #expect(r.status == 0, "\(r.stderr)")
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    #expect(run.status == .finished)
    var steps: [Int64] = [], sharpes: [Double] = []
    for m in try store.metrics(runId: run.id!, key: "eval/validation/sharpe") where !steps.contains(m.globalStep) {
        steps.append(m.globalStep)
        sharpes.append(m.value)
    }
    // Training stopped at the first evaluation that did not beat the best before it.
    let stop = try #require(sharpes.indices.dropFirst().first { k in sharpes[k] <= sharpes[..<k].max()! })
    #expect(try store.latestCheckpoint(runId: run.id!)?.globalStep == steps[stop])
    #expect(steps.max() == steps[stop])
    #expect(r.stderr.contains("stopped early at step \(steps[stop]): 1 validation evaluations"), "\(r.stderr)")
}
