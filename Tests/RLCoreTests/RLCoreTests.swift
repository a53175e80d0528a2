import Testing

@testable import RLCore

@Test func xoshiroMatchesReferenceSequence() {
    // Reference: xoshiro256** with state (1, 2, 3, 4), from the authors' C code.
    var g = Xoshiro256(state: (1, 2, 3, 4))
    let expected: [UInt64] = [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240]
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
    #expect(s.map(\.observation) == [0, 0])  // already reset
    #expect(v.finalObservations.map { $0 } == [3, 3])  // the observation each episode ended on
    #expect(s.map(\.reward) == [1, 0])
    _ = v.step([0, 0])
    #expect(v.finalObservations.map { $0 } == [nil, nil])
}

/// The default `step(_:into:)` writes `step(_:)`'s step over the one given.
@Test func stepIntoDefaultsToTheStep() {
    var env = Counter(), s = Step(observation: 7, reward: 9, terminated: true, truncated: true, info: ())
    _ = env.reset(seed: nil)
    env.step(1, into: &s)
    #expect(s.observation == 1 && s.reward == 1 && !s.terminated && !s.truncated)
    env.step(0, into: &s)
    env.step(1, into: &s)
    #expect(s.observation == 3 && s.reward == 1 && s.terminated)
}

/// A window observation: bar t and two extras (t, and the action that led to it).
struct Tick: WindowObservation, Equatable {
    var bar: Int
    var extras: [Double]
    var features: [Float] { [] }
    var window: Int { 1 }
    var width: Int { 0 }
}

/// Counts up from its seed mod 3; terminates at 5, truncates at 4 after action 1.
struct Ticker: AgentEnvironment {
    var t = 0
    var actionSpace: Discrete { Discrete(2) }
    var discreteActionCount: Int { 2 }
    var continuousActionCount: Int { 0 }
    func action(index k: Int) -> Int { k }
    func action(continuous values: [Double]) -> Int { 0 }
    mutating func reset(seed: UInt64?) -> Tick {
        t = Int((seed ?? 1) % 3)
        return Tick(bar: t, extras: [Double(t), -1])
    }
    mutating func step(_ action: Int) -> Step<Tick, Int> {
        t += 1
        return Step(
            observation: Tick(bar: t, extras: [Double(t), Double(action)]), reward: Double(t * 10 + action),
            terminated: t == 5, truncated: t == 4 && action == 1, info: -t)
    }
}

@Test func vectorEnvWindowColumnsHoldWhatTheObservationsHold() {
    var values = VectorEnv([Ticker(), Ticker(), Ticker()]), columns = values
    _ = values.reset(seed: 7)
    columns.resetWindows(seed: 7)
    #expect(columns.extrasWidth == 2 && columns.bars == values.observations.map(\.bar))
    var rng = Xoshiro256(seed: 2)
    var ended = 0
    for _ in 0..<40 {
        let actions = (0..<3).map { _ in Int(rng.next() % 2) }
        let steps = values.step(actions)
        columns.stepWindows(actions)
        #expect(columns.rewards == steps.map(\.reward) && columns.infos == steps.map(\.info))
        #expect(columns.terminated == steps.map(\.terminated) && columns.truncated == steps.map(\.truncated))
        #expect(columns.bars == values.observations.map(\.bar))
        #expect(columns.extras == values.observations.flatMap(\.extras))
        #expect(columns.finalBars == values.finalObservations.map { $0?.bar })
        for i in 0..<3 {
            if let final = values.finalObservations[i] {
                #expect(Array(columns.finalExtras[2 * i..<2 * i + 2]) == final.extras)
                ended += 1
            }
        }
    }
    #expect(ended > 10)  // both ways an episode ends, several times
    #expect(columns.observations.isEmpty)  // the columns build no observation
}
