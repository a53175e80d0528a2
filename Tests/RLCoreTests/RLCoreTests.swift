import Testing
@testable import RLCore

@Test func xoshiroMatchesReferenceSequence() {
    // Reference: xoshiro256** with state (1, 2, 3, 4), from the authors' C code.
    var g = Xoshiro256(state: (1, 2, 3, 4))
    let expected: [UInt64] = [11520, 0, 1509978240, 1215971899390074240]
    #expect((0..<4).map { _ in g.next() } == expected)
}

@Test func sameSeedSameStreamAndSplitDiffers() {
    var a = Xoshiro256(seed: 42), b = Xoshiro256(seed: 42)
    #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    // A split is reproducible, takes one draw of its parent and gives a stream of its own.
    var c = a.split(), d = b.split()
    let child = (0..<100).map { _ in c.next() }
    #expect(child == (0..<100).map { _ in d.next() })
    var fresh = Xoshiro256(seed: 42)
    let whole = (0..<201).map { _ in fresh.next() }
    #expect((0..<100).map { _ in a.next() } == Array(whole[101...]))
    #expect(Set(child).isDisjoint(with: whole))
}

@Test func discreteSpaceSamplesInside() {
    var g = Xoshiro256(seed: 1)
    let s = Discrete(3)
    var counts = [0, 0, 0]
    for _ in 0..<3000 { let x = s.sample(using: &g); #expect(s.contains(x)); counts[x] += 1 }
    #expect(counts.allSatisfy { $0 > 900 })
    #expect(!s.contains(3) && !s.contains(-1))
}

@Test func boxSpaceSamplesInsideAndRejectsOutside() {
    var g = Xoshiro256(seed: 2)
    let s = Box(low: [-1, 0], high: [1, 0.5], shape: [2])
    for _ in 0..<1000 { #expect(s.contains(s.sample(using: &g))) }
    #expect(!s.contains([0, 0.6]))
    #expect(!s.contains([0]))
    #expect(!s.contains([.nan, 0]))
}

/// Counts up; terminates at 3.
struct Counter: Environment {
    var t = 0
    var actionSpace: Discrete { Discrete(2) }
    mutating func reset(seed: UInt64?) -> Int { t = 0; return t }
    mutating func step(_ action: Int) -> Step<Int, Void> {
        t += 1
        return Step(observation: t, reward: Double(action), terminated: t == 3, truncated: false, info: ())
    }
}

@Test func vectorEnvAutoresetsAndKeepsFinalObservation() {
    var v = VectorEnv([Counter(), Counter()])
    #expect(v.reset(seed: 0) == [0, 0])
    _ = v.step([0, 1]); _ = v.step([0, 1])
    let s = v.step([1, 0])
    #expect(s.map(\.terminated) == [true, true])
    #expect(s.map(\.observation) == [0, 0])          // already reset
    #expect(v.finalObservations.map { $0 } == [3, 3]) // the observation each episode ended on
    #expect(s.map(\.reward) == [1, 0])
    _ = v.step([0, 0])
    #expect(v.finalObservations.map { $0 } == [nil, nil])
}
