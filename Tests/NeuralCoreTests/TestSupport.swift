import Foundation
import RLCore
import Testing

@testable import NeuralCore

/// Decodes `Fixtures/<name>` (a JSON file written by scripts/make_nn_fixtures.py).
func loadFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

func fixtureURL(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
}

/// |actual − expected| ≤ rel·|expected| + abs, element by element, naming the first few offenders.
func expectClose(
    _ actual: [Float], _ expected: [Float], rel: Float = 1e-4, abs absFloor: Float = 1e-6, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.count == expected.count, "\(label): \(actual.count) values, expected \(expected.count)",
        sourceLocation: sourceLocation)
    var bad = 0
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(Swift.abs(a - e) <= rel * Swift.abs(e) + absFloor) {
        bad += 1
        if bad <= 3 { Issue.record("\(label)[\(i)]: \(a), expected \(e)", sourceLocation: sourceLocation) }
    }
}

func expectClose(
    _ actual: Float, _ expected: Float, rel: Float = 1e-4, abs absFloor: Float = 1e-6, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectClose([actual], [expected], rel: rel, abs: absFloor, label, sourceLocation: sourceLocation)
}

/// Uniform random floats in −scale…scale from a seeded generator.
func randomFloats(_ n: Int, scale: Float = 1, using rng: inout Xoshiro256) -> [Float] {
    (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) }
}

/// Serialises `withMicroKernels`: the kernel selection is process-wide and tests run in parallel.
private let kernelSelection = NSLock()

/// Runs `body` with the packed products on `kernels`, then selects the CPU's default again; one such call at a time
/// (other tests meanwhile run on whichever kernels are selected: both give the same bits). On a CPU without AVX-512F,
/// `.avx512` cancels the test (or this argument of it) with that reason instead.
func withMicroKernels<T>(_ kernels: MicroKernels, _ body: () throws -> T) throws -> T {
    guard kernels == .avx2 || MicroKernels.avx512Available else {
        try Test.cancel("this CPU lacks AVX-512F: the AVX-512 kernels are not tested here")
    }
    kernelSelection.lock()
    defer {
        MicroKernels.select(MicroKernels.fastest)
        kernelSelection.unlock()
    }
    MicroKernels.select(kernels)
    return try body()
}
