import Foundation
import Testing
@testable import RunStore

@Suite struct BenchmarkTests {
    /// The insert rate for the README: `TRADESIM_BENCH=1 swift test -c release --filter RunStoreTests.BenchmarkTests`.
    /// Skipped otherwise; it prints the figure and checks only that every row arrived (never a timing).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TRADESIM_BENCH"] == "1"))
    func benchStepInserts() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("bench.sqlite")
        let cpuBefore = processCPUSeconds()
        let (rows, seconds) = try benchmarkStepInserts(path: path, episodes: 200, stepsPerEpisode: 5_000)
        let cpu = processCPUSeconds() - cpuBefore
        // CPU time too: on a shared machine the wall-clock rate depends on what else runs.
        print("RunStore step inserts: \(rows) rows in \(String(format: "%.3f", seconds)) s = \(Int(Double(rows) / seconds)) rows/s"
              + " (\(Int(Double(rows) / cpu)) rows per CPU second)")
        let store = try RunStore(path: path)
        #expect(try scalar(store, "SELECT COUNT(*) FROM step") == rows)
    }

    @Test func benchmarkCountsItsRowsAndRefusesExistingFiles() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("small.sqlite")
        let (rows, seconds) = try benchmarkStepInserts(path: path, episodes: 3, stepsPerEpisode: 100)
        #expect(rows == 300)
        #expect(seconds > 0)
        #expect(try scalar(RunStore(path: path), "SELECT COUNT(*) FROM step") == 300)
        #expect(throws: RunStoreError(path: path, reason: "already exists; the benchmark writes a new store")) {
            try benchmarkStepInserts(path: path, episodes: 1, stepsPerEpisode: 1)
        }
    }
}

/// User + system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}
