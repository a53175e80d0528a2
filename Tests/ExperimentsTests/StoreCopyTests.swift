import Foundation
import Testing

@testable import RunStore

/// Runs trained in one store, copied into a second and from there into a third (PostgreSQL → SQLite → PostgreSQL when
/// a test database is set, else SQLite files), compare the same on all three, and copying again adds nothing.
@Test func copiedStoresCompareIdentically() throws {
    let t = try tinyExperiment(steps: 200, seeds: "[3, 4]")
    let first = postgresTestStore("first") ?? t.dir + "/first.sqlite"
    let third = postgresTestStore("third") ?? t.dir + "/third.sqlite"
    defer { [first, third].forEach(dropPostgresTestStore) }
    let middle = t.dir + "/middle.sqlite"
    let train = try runCLI(["train", t.experiment, "--store", first, "--checkpoints", t.dir + "/checkpoints"])
    #expect(train.status == 0, "\(train.stderr)")
    let copy = try runCLI(["store", "copy", first, middle])
    #expect(copy.status == 0, "\(copy.stderr)")
    #expect(copy.stdout.hasPrefix("copied 2 runs ("), "\(copy.stdout)")
    #expect(try runCLI(["store", "copy", middle, third]).status == 0)

    var outputs: [String] = []
    for store in [first, middle, third] {
        let r = try runCLI(["compare", "--experiment", "tiny", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(store): \(r.stderr)")
        outputs.append(r.stdout)
    }
    #expect(outputs[0].contains("\"policy\"") && outputs[0] == outputs[1] && outputs[1] == outputs[2])
    // The other reading commands print the same on every store too.
    let name = try #require(try RunStore(path: first).runs().first?.name)
    for command in [
        ["runs"], ["export", name, "--what", "steps", "--format", "csv"], ["replay", name, "--limit", "20"],
        ["export", name, "--what", "metrics", "--format", "jsonl"],
    ] {
        let printed = try [first, middle, third].map { try runCLI(command + ["--store", $0]) }
        #expect(printed.allSatisfy { $0.status == 0 }, "\(command): \(printed.map(\.stderr))")
        #expect(printed[0].stdout.count > 100 && printed.allSatisfy { $0.stdout == printed[0].stdout }, "\(command)")
    }
    for store in [first, third] {
        let report = try runCLI(["report", name, "--store", store, "--out", t.dir + "/report.html"])
        #expect(report.status == 0, "\(report.stderr)")
    }

    // Everything the store API returns is equal, apart from the ids each store gives.
    let a = try RunStore(path: first), c = try RunStore(path: third)
    #expect(try a.runs().map(\.name) == c.runs().map(\.name))
    for (ra, rc) in zip(try a.runs(), try c.runs()) {
        #expect(ra.startedAt == rc.startedAt && ra.endedAt == rc.endedAt && ra.configJSON == rc.configJSON)
        let ea = try a.episodes(runId: ra.id!), ec = try c.episodes(runId: rc.id!)
        let unkeyed = { (e: EpisodeRecord) -> EpisodeRecord in
            var e = e
            e.id = nil
            e.runId = 0
            return e
        }
        #expect(ea.map(unkeyed) == ec.map(unkeyed))
        for (x, y) in zip(ea, ec) {
            #expect(try a.steps(episodeId: x.id!).map(\.equity) == c.steps(episodeId: y.id!).map(\.equity))
        }
        #expect(
            try a.metrics(runId: ra.id!).map { [$0.key, "\($0.globalStep)", "\($0.value)"] }
                == c.metrics(runId: rc.id!).map { [$0.key, "\($0.globalStep)", "\($0.value)"] })
        #expect(try a.checkpoints(runId: ra.id!).map(\.file) == c.checkpoints(runId: rc.id!).map(\.file))
    }

    // Twice adds nothing.
    let again = try runCLI(["store", "copy", middle, third])
    #expect(
        again.status == 0 && again.stdout.contains("copied 0 runs (0 steps)")
            && again.stdout.contains("2 already there"), "\(again.stdout)")
    #expect(try c.runs().count == 2)

    // Deleting a copied run leaves its checkpoint files, which the source's run still names.
    let files = Set(try a.checkpoints(runId: try a.run(reference: name).id!).map(\.file)).count
    let rm = try runCLI(["runs", "rm", name, "--yes", "--store", middle])
    #expect(rm.status == 0, "\(rm.stderr)")
    #expect(
        rm.stdout.contains(
            "and 0 checkpoint files; its \(files) checkpoint files stay with the store it was copied from"),
        "\(rm.stdout)")
    #expect(files > 1)
    let after = try runCLI(["compare", name, "--store", first, "--format", "json"])
    #expect(after.status == 0 && after.stdout.contains("\"policy\""), "\(after.stderr)")
}

/// A sweep copied with `--sweep` keeps its trials linked to their runs: `sweep results` ranks the same on the copy
/// (in PostgreSQL when a test database is set).
@Test func copiedSweepGivesTheSameResults() throws {
    let t = try sweepExperiment(grid: "    agent.learningRate: [1.0e-4, 1.0e-3]", steps: 120)
    #expect(try runCLI(["sweep", t.experiment, "--jobs", "2"]).status == 0)
    let copy = postgresTestStore("sweep") ?? t.dir + "/copy.sqlite"
    defer { dropPostgresTestStore(copy) }
    let r = try runCLI(["store", "copy", t.store, copy, "--sweep", "sw"])
    #expect(
        r.status == 0 && r.stdout.hasPrefix("copied 4 runs") && r.stdout.contains(", 1 sweep from "),
        "\(r.stdout)\(r.stderr)")
    let results = try [t.store, copy].map {
        try runCLI(["sweep", "results", "sw", "--store", $0, "--blocks", "4", "--format", "json"])
    }
    #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
    #expect(results[0].stdout.contains("ranking") && results[0].stdout == results[1].stdout)
    let status = try runCLI(["sweep", "status", "sw", "--store", copy])
    #expect(status.status == 0 && status.stdout.contains("finished"), "\(status.stdout)\(status.stderr)")
}
