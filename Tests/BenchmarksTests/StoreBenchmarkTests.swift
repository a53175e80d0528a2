import Benchmarks
import Foundation
import RunStore
import Testing

@Suite struct StoreBenchmarkTests {
    /// The insert rate for the README:
    /// `TRADESIM_BENCH=1 swift test -c release --filter BenchmarksTests.StoreBenchmarkTests`.
    /// Skipped otherwise; it prints the figure and checks only that every row arrived (never a timing).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TRADESIM_BENCH"] == "1"))
    func benchStepInserts() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bench.sqlite"
        let cpuBefore = processCPUSeconds()
        let (rows, seconds) = try benchmarkStepInserts(path: path, episodes: 200, stepsPerEpisode: 5_000)
        let cpu = processCPUSeconds() - cpuBefore
        // CPU time too: on a shared machine the wall-clock rate depends on what else runs.
        print(
            "RunStore step inserts: \(rows) rows in \(String(format: "%.3f", seconds)) s = "
                + "\(Int(Double(rows) / seconds)) rows/s (\(Int(Double(rows) / cpu)) rows per CPU second)")
        #expect(try storedSteps(path) == rows)
    }

    @Test func benchmarkCountsItsRowsAndRefusesExistingFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/small.sqlite"
        let (rows, seconds) = try benchmarkStepInserts(path: path, episodes: 3, stepsPerEpisode: 100)
        #expect(rows == 300)
        #expect(seconds > 0)
        #expect(try storedSteps(path) == 300)
        #expect(throws: RunStoreError(path: path, reason: "already exists; the benchmark writes a new store")) {
            try benchmarkStepInserts(path: path, episodes: 1, stepsPerEpisode: 1)
        }
    }
}

/// The step rows of the benchmark's run (the store's only run), counted by streaming them.
func storedSteps(_ path: String) throws -> Int {
    try RunStore(path: path).export(runId: 1, what: .steps, format: .csv, to: FileHandle.nullDevice)
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradesim-bench-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
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
