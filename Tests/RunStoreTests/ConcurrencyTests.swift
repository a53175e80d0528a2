import Foundation
import Testing

@testable import RunStore

/// Many writers at once, each with its own connection (as processes on many machines would have): no row is lost or
/// written twice, run names stay unique, and every trial is claimed by exactly one of the claimers.
@Test(arguments: Backend.all)
func concurrentWritersLoseAndDuplicateNothing(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let path = stores.path("concurrent.sqlite")
    let setup = try RunStore(path: path)
    let trials = (0..<6).map {
        TrialRecord(
            index: Int64($0), configuration: 0, seed: Int64($0), assignmentsJSON: "[]",
            configHash: "h")
    }
    let sweep = try setup.createSweep(
        SweepRecord(
            name: "race", experimentPath: "x.yaml", experimentYAML: "",
            definitionYAML: ""), trials: trials)
    let writers = 8, episodes = 12, steps = 300
    let claims = Claims()
    DispatchQueue.concurrentPerform(iterations: writers) { w in
        do {
            let store = try RunStore(path: path, busyTimeout: 30)
            // Same experiment, seed and start second: the names differ only by their suffixes.
            let run = try makeRun(store)
            for e in 0..<episodes {
                try store.writeEpisode(
                    makeEpisode(runId: run.id!, index: Int64(e)), steps: makeSteps(steps),
                    trades: makeTrades(4), metrics: makeMetrics(globalStep: Int64(e)))
                let claim = try store.claimTrial(sweepId: sweep.id!, index: Int64((w + e) % trials.count)) { t in
                    RunRecord(
                        name: "race-\(t.index)", experiment: "race", agent: "dqn", experimentYAML: "",
                        configJSON: "{}", configHash: "h", codeVersion: "v", seed: t.seed, startedAt: Date())
                }
                claims.add(claim)
            }
        } catch {
            claims.fail(error)
        }
    }
    #expect(claims.errors.isEmpty, "\(claims.errors)")
    let runs = try setup.runs()
    let names = runs.map(\.name)
    #expect(Set(names).count == names.count)
    #expect(runs.count == writers + trials.count)
    #expect(try scalar(setup, "SELECT COUNT(*) FROM episode") == writers * episodes)
    #expect(try scalar(setup, "SELECT COUNT(*) FROM step") == writers * episodes * steps)
    #expect(try scalar(setup, "SELECT COUNT(*) FROM trade") == writers * episodes * 4)
    #expect(try scalar(setup, "SELECT COUNT(*) FROM metric") == writers * episodes * 3)
    // Each trial started once; every later claim found it taken by this (live) process.
    #expect(claims.started.sorted() == trials.map(\.index))
    #expect(claims.started.count + claims.taken == writers * episodes)
    let claimed = try setup.trials(sweepId: sweep.id!)
    #expect(claimed.allSatisfy { $0.status == .running && $0.runId != nil })
    #expect(Set(claimed.compactMap(\.runId)).count == trials.count)
}

/// What the racing claimers got.
final class Claims: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var started: [Int64] = []
    private(set) var taken = 0
    private(set) var errors: [String] = []

    func add(_ claim: TrialClaim) {
        lock.withLock {
            switch claim {
            case .started(let run): started.append(Int64(run.name.split(separator: "-").last!)!)
            case .taken: taken += 1
            default: errors.append("unexpected \(claim)")
            }
        }
    }

    func fail(_ error: any Error) { lock.withLock { errors.append("\(error)") } }
}
