import Foundation
import NeuralCore
import Testing

@testable import Benchmarks

/// Not a test: prints the benchmark figures. Run from a release build:
/// TRADESIM_BENCH=1 OPENBLAS_NUM_THREADS=2 swift test -c release --filter BenchmarksTests.benchmarkNN
/// (TRADESIM_BENCH_SHAPES=small,medium limits the shapes; TRADESIM_BENCH_SECONDS sets the training time per shape;
/// TRADESIM_BENCH_THREADS overrides the 2 BLAS threads.)
@Test(.enabled(if: ProcessInfo.processInfo.environment["TRADESIM_BENCH"] == "1"))
func benchmarkNN() throws {
    let env = ProcessInfo.processInfo.environment
    let names = (env["TRADESIM_BENCH_SHAPES"] ?? "small,medium,paper").split(separator: ",").map(String.init)
    let seconds = Double(env["TRADESIM_BENCH_SECONDS"] ?? "5") ?? 5
    setBLASThreads(Int(env["TRADESIM_BENCH_THREADS"] ?? "2") ?? 2)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    for name in names {
        let shape = try #require(NNBenchShape.named(name), "unknown shape \(name)")
        let result = benchmarkTraining(shape: shape, seconds: seconds)
        print("NNBENCH", String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}

@Test func trainingFlopsFormula() {
    // small: embed 2·64·32·20·32 = 2,621,440; lstm 2·64·32·256·(32+64) = 100,663,296; head 2·64·64·3 = 24,576
    let s = NNBenchShape.small
    let embed: Double = 2_621_440, lstm: Double = 100_663_296, head: Double = 24_576
    #expect(s.trainingFlops == 2 * embed + 3 * lstm + 3 * head)
}

@Test func benchmarkFiguresAreMedians() {
    #expect(median([3, 1, 2]) == 2)
    #expect(median([40, 1, 30, 2, 20]) == 20)
    #expect(median([4, 1, 3, 2]) == 3)
}
