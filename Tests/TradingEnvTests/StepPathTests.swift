import Foundation
import MarketData
import RLCore
import Testing

@testable import TradingEnv

// The step's storage: observations that outlive later steps, copies of an environment, the batch step, the gross of
// a target of levels added in lanes.

/// Observations handed out earlier keep their weights while the environment steps on (it writes a step's weights into
/// storage it reuses), and a copy of the environment trades on its own book.
@Test func observationsAndCopiesKeepTheirOwnWeights() throws {
    var env = try makeEnv(randomPanel(bars: 300, assets: 3, seed: 2), window: 2) { $0.actions.kind = .weights }
    var rng = Xoshiro256(seed: 5)
    var kept = [env.reset(seed: 0)], copies = [kept[0].weights.map { $0 }]
    for _ in 0..<30 {
        let o = env.step(.weights((0..<3).map { _ in Double.random(in: -1...1, using: &rng) })).observation
        kept.append(o)
        copies.append(o.weights.map { $0 })
    }
    #expect(kept.map(\.weights) == copies)
    #expect(Set(copies.map { $0.map(\.bitPattern) }).count > 20)  // they did change from step to step
    var copy = env
    let shares = env.shares
    let a = copy.step(.weights([1, 0, 0])).observation
    #expect(env.shares == shares && a.weights[0] > 0.9)
    let b = env.step(.weights([0, 0, -1])).observation
    #expect(b.weights[2] < -0.9 && a.weights[2] == 0 && copy.shares[2] == 0)
}

/// `step(_:into:)` gives, bit for bit, the steps `step(_:)` gives, one asset and a panel, across episodes. It writes
/// into the observation's storage in place while nothing else holds it, and takes a storage of its own when something
/// does: observations copied out of the step keep their weights, and so does the step of another environment written
/// over (another feature matrix).
@Test(arguments: [1, 3])
func stepIntoIsTheStep(assets: Int) throws {
    let env = try makeEnv(randomPanel(bars: 300, assets: assets, seed: 4), window: 2) { c in
        c.costs = CostModel(commissionBps: 5, halfSpreadBps: 3, borrowBpsPerYear: 50)
        c.actions.kind = assets == 1 ? .discrete : .weights
        c.observePosition = true
        c.observeCash = true
        c.episode.mode = .random
        c.episode.length = 30
    }
    var other = try makeEnv(randomPanel(bars: 300, assets: assets, seed: 9), window: 2) {
        $0.actions.kind = assets == 1 ? .discrete : .weights
    }
    _ = other.reset(seed: 1)
    var alone = env, inPlace = env, rng = Xoshiro256(seed: 2)
    #expect(alone.reset(seed: 5) == inPlace.reset(seed: 5))
    var s = other.step(other.actionSpace.sample(using: &rng))
    var kept: [(MarketObservation, [Double])] = [(s.observation, s.observation.weights)]
    var inPlaceSteps = 0, ends = 0
    for k in 0..<400 {
        let action = k % 5 == 4 ? TradingAction.hold : env.actionSpace.sample(using: &rng)
        let t = alone.step(action)
        let before = ObjectIdentifier(s.observation.storage), copied = k % 9 == 0
        inPlace.step(action, into: &s)
        if ObjectIdentifier(s.observation.storage) == before { inPlaceSteps += 1 }
        #expect(s.observation == t.observation && s.reward.bitPattern == t.reward.bitPattern && s.info == t.info)
        #expect(s.terminated == t.terminated && s.truncated == t.truncated && s.observation.extras.count == assets + 1)
        if copied { kept.append((s.observation, s.observation.weights)) }
        if t.done {
            ends += 1
            #expect(alone.reset(seed: nil) == inPlace.reset(seed: nil))
        }
    }
    #expect(kept.allSatisfy { $0.0.weights == $0.1 })
    #expect(Set(kept.map { $0.1.map(\.bitPattern) }).count > 20)  // the weights did change from step to step
    #expect(ends >= 10)
    // Every step wrote in place but the first (another environment's storage) and each after a copy.
    #expect(inPlaceSteps == 400 - 1 - (kept.count - 1))
}

/// The batch step (`MarketEnv.step(_:_:into:)`, phase by phase across the environments) gives, bit for bit, the steps
/// of each environment stepped on its own, its extras those of the observation: one asset and a panel, with costs and
/// borrow, random episodes, `.hold` among the actions, each reward kind, and environments of different sizes in one
/// batch.
@Test(arguments: [RewardKind.logReturn, .pnl, .differentialSharpe, .volScaled])
func batchStepIsTheStep(reward: RewardKind) throws {
    // 12 environments, more than one chunk of the batch: (assets, observeCash) in turn.
    let kinds = [(1, true), (3, false), (1, false), (3, true)]
    let envs = try (0..<12).map { k in
        let (assets, observeCash) = kinds[k % 4]
        return try makeEnv(randomPanel(bars: 400, assets: assets, seed: 7), window: 3) { c in
            c.costs = CostModel(commissionBps: 5, halfSpreadBps: 3, borrowBpsPerYear: 50)
            c.observeCash = observeCash
            c.observePosition = assets == 3
            c.reward.kind = reward
            c.episode.mode = .random
            c.episode.length = 40
        }
    }
    var alone = envs, batch = envs, rng = Xoshiro256(seed: 1)
    let widths = envs.map(\.portfolioWidth), P = widths.max()!
    for i in envs.indices {
        _ = alone[i].reset(seed: UInt64(i))
        _ = batch[i].reset(seed: UInt64(i))
    }
    var ends = 0
    for _ in 0..<300 {
        let actions = envs.map { e in rng.next() % 4 == 0 ? TradingAction.hold : e.actionSpace.sample(using: &rng) }
        let steps = envs.indices.map { alone[$0].step(actions[$0]) }
        let B = envs.count
        var rewards = [Double](repeating: .nan, count: B), bars = [Int](repeating: -1, count: B)
        var terminated = [Bool](repeating: false, count: B), truncated = terminated
        var extras = [Double](repeating: .nan, count: B * P)
        let infos = [StepInfo](unsafeUninitializedCapacity: B) { infos, count in
            batch.withUnsafeMutableBufferPointer { batch in
                actions.withUnsafeBufferPointer { actions in
                    MarketEnv.step(
                        batch, actions,
                        into: StepColumns(
                            rewards: &rewards, terminated: &terminated, truncated: &truncated, bars: &bars,
                            infos: infos.baseAddress!, extras: &extras, extrasWidth: P))
                }
            }
            count = B
        }
        for (i, s) in steps.enumerated() {
            #expect(bars[i] == s.observation.bar && rewards[i].bitPattern == s.reward.bitPattern && infos[i] == s.info)
            #expect(terminated[i] == s.terminated && truncated[i] == s.truncated)
            #expect(Array(extras[i * P..<i * P + widths[i]]) == s.observation.extras)
            let outside = extras[i * P + widths[i]..<(i + 1) * P]
            #expect(outside.allSatisfy { $0.isNaN })  // nothing written outside its row
            if s.done {
                ends += 1
                #expect(alone[i].reset(seed: nil) == batch[i].reset(seed: nil))
            }
        }
    }
    #expect(ends >= 60)
}

/// A panel's level index outside the levels stops the process with the action's name, as a single asset's does; it is
/// never read past the end of the levels (a release build does not check an unsafe buffer's subscript). So do weights
/// that are not finite and a step past the episode's end, each with its message (printed in release builds too).
@Test func misusesOfTheStepStopTheProcessWithTheirMessage() async {
    func stderr(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }
    let outside = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var env = try! makeEnv(randomPanel(bars: 40, assets: 3, seed: 4))
        _ = env.reset(seed: 0)
        _ = env.step(.indices([0, 2, 0]))  // inside: the step goes on
        _ = env.step(.indices([1, 3, 1]))
    }
    #expect(stderr(outside).contains("action indices([1, 3, 1]) is outside"))
    let notFinite = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var env = try! makeEnv(randomPanel(bars: 40, assets: 2, seed: 4)) { $0.actions.kind = .weights }
        _ = env.reset(seed: 0)
        _ = env.step(.weights([0.5, .nan]))
    }
    #expect(stderr(notFinite).contains("action needs 2 finite weights"))
    let pastTheEnd = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var env = try! makeEnv(randomPanel(bars: 5, seed: 4))
        _ = env.reset(seed: 0)
        while !env.step(.index(1)).done {}
        _ = env.step(.index(1))
    }
    #expect(stderr(pastTheEnd).contains("step after the episode ended; call reset"))
}

/// The gross of a target of levels is added in lanes only when every order of addition gives the same sum; then the
/// projection is the sequential one bit for bit.
@Test func levelGrossAddsInLanesOnlyWhenExact() {
    var a = ActionConfig()
    #expect(TradingActionSpace(a, assets: 100).levelSumsAreExact)
    a.levels = [-1, -0.5, 0, 0.25, 1]
    #expect(TradingActionSpace(a, assets: 1_000).levelSumsAreExact)
    #expect(!TradingActionSpace(a, assets: 1 << 53).levelSumsAreExact)  // partial sums beyond 2⁵³ · 2⁻²
    a.levels = [-0.3, 0, 0.3]  // 0.3 is no short binary fraction
    #expect(!TradingActionSpace(a, assets: 3).levelSumsAreExact)
    a.levels = [0, 0]
    #expect(TradingActionSpace(a, assets: 3).levelSumsAreExact)

    a.levels = [-1, -0.5, 0, 0.25, 1]
    let space = TradingActionSpace(a, assets: 103)
    var rng = Xoshiro256(seed: 4)
    for _ in 0..<50 {
        let w = (0..<103).map { _ in a.levels[Int(rng.next() % 5)] }
        var lanes = w, sequence = w
        lanes.withUnsafeMutableBufferPointer { space.project($0, inAnyOrder: true) }
        sequence.withUnsafeMutableBufferPointer { space.project($0, inAnyOrder: false) }
        #expect(lanes.map(\.bitPattern) == sequence.map(\.bitPattern))
        #expect(lanes != w)  // scaled onto the cap
    }
}

/// A panel's target of level indices, picked four at a time for up to 4 exact levels, is the lookup one by one and
/// `project` bit for bit, for every count of levels, long-only or not, capped or not, every N around whole vectors; an
/// index outside the levels (negative, or past the last) is refused wherever it stands.
@Test func levelTargetsArePickedAsTheyAreLookedUp() {
    let sets: [[Double]] = [
        [0.5], [-1, 1], [-1, 0, 1], [-1, -0.5, 0.5, 1], [1, 0.25, -0.75, 0.5], [-1, -0.5, 0, 0.5, 1],
        [-0.3, 0, 0.3],
    ]
    var rng = Xoshiro256(seed: 9)
    var picked = 0
    for levels in sets {
        for longOnly in [false, true] {
            for cap in [1.0, 1e6] {
                for n in [1, 2, 3, 4, 5, 7, 8, 100, 103] {
                    var a = ActionConfig()
                    a.levels = levels
                    a.longOnly = longOnly
                    a.maxGrossLeverage = cap
                    let space = TradingActionSpace(a, assets: n)
                    if levels.count <= 4 && space.levelSumsAreExact && n >= 4 { picked += 1 }
                    for _ in 0..<4 {
                        let ks = (0..<n).map { _ in Int(rng.next() % UInt64(levels.count)) }
                        var expected = ks.map { levels[$0] }
                        expected.withUnsafeMutableBufferPointer { space.project($0, inAnyOrder: false) }
                        var target = [Double](repeating: .nan, count: n)
                        let inside = ks.withUnsafeBufferPointer { k in
                            target.withUnsafeMutableBufferPointer { space.setTarget(ofLevels: k, $0.baseAddress!) }
                        }
                        #expect(inside)
                        #expect(target.map(\.bitPattern) == expected.map(\.bitPattern), "\(levels) \(n) \(longOnly)")
                        for bad in [-1, levels.count, Int.min, Int.max] {
                            var wrong = ks
                            wrong[Int(rng.next() % UInt64(n))] = bad
                            let accepted = wrong.withUnsafeBufferPointer { k in
                                target.withUnsafeMutableBufferPointer { space.setTarget(ofLevels: k, $0.baseAddress!) }
                            }
                            #expect(!accepted, "\(wrong) against \(levels)")
                        }
                    }
                }
            }
        }
    }
    #expect(picked == 5 * 2 * 2 * 6)  // five sets of up to 4 exact levels, at six N ≥ 4: the vector picks
}

/// For one or two assets the fill leaves the book's value at the next fill bar's prices for the step after: at every
/// step, through resets, random episodes, `.hold`, whole shares and a copy, it is the value taken afresh, bit for bit.
/// (The batch step, which also carries it, gives `step`'s values bit for bit: `batchStepIsTheStep`.)
@Test func carriedBookValueIsTheValueTakenAfresh() throws {
    for assets in [1, 2] {
        for fractional in [true, false] {
            var env = try makeEnv(randomPanel(bars: 120, assets: assets, seed: 6), window: 3) { c in
                c.actions.kind = .weights
                c.fractionalShares = fractional
                c.episode.mode = .random
                c.episode.length = 30
                c.costs = CostModel(commissionBps: 2, halfSpreadBps: 3, borrowBpsPerYear: 50)
            }
            var rng = Xoshiro256(seed: 8)
            func afresh(_ e: MarketEnv) -> Double {
                referenceValue(
                    book: e.book.base, quote: UnsafePointer(e.quotes.base) + 3 * e.n4 * (e.bar + 1), n4: e.n4)
            }
            _ = env.reset(seed: 1)
            var checked = 0, nonzero = 0
            for k in 0..<400 {
                let action: TradingAction =
                    k % 7 == 3 ? .hold : .weights((0..<assets).map { _ in Double.random(in: -1...1, using: &rng) })
                if k % 50 == 25 {  // a copy steps on its own; the original goes on with its own value
                    var copy = env
                    if !copy.step(action).done { #expect(copy.heldValue.bitPattern == afresh(copy).bitPattern) }
                }
                if env.step(action).done {
                    _ = env.reset(seed: nil)
                    #expect(env.heldValue == 0)
                    continue
                }
                #expect(env.heldValue.bitPattern == afresh(env).bitPattern, "step \(k)")
                checked += 1
                if env.heldValue != 0 { nonzero += 1 }
            }
            #expect(checked > 300 && nonzero > 250)
        }
    }
}

/// A VectorEnv of market environments keeps, in its window columns, what the observations of `step` hold.
@Test func vectorEnvColumnsOfMarketEnvironments() throws {
    let env = try makeEnv(randomPanel(bars: 300, assets: 2, seed: 3), window: 4) { c in
        c.episode.mode = .random
        c.episode.length = 25
        c.observeCash = true
    }
    var values = VectorEnv(Array(repeating: env, count: 4)), columns = values
    _ = values.reset(seed: 1)
    columns.resetWindows(seed: 1)
    var rng = Xoshiro256(seed: 8), ended = 0
    for _ in 0..<100 {
        let actions = (0..<4).map { _ in env.actionSpace.sample(using: &rng) }
        let steps = values.step(actions)
        columns.stepWindows(actions)
        #expect(columns.rewards == steps.map(\.reward) && columns.infos == steps.map(\.info))
        #expect(columns.bars == values.observations.map(\.bar))
        #expect(columns.extras == values.observations.flatMap(\.extras))
        #expect(columns.finalBars == values.finalObservations.map { $0?.bar })
        ended += values.finalObservations.compactMap { $0 }.count
    }
    #expect(ended >= 12)
}
