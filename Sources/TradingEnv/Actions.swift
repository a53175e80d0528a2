import RLCore

/// An order to move the portfolio to target weights, decided at bar t and filled at bar t+1.
public enum TradingAction: Equatable, Sendable {
    /// One asset: the index of a discrete level (`ActionConfig.levels`).
    case index(Int)
    /// A panel: one level index per asset (N).
    case indices([Int])
    /// Target weights, one per asset (N); projected onto the configured constraints.
    case weights([Double])
    /// No orders: every position stays as it is and its weight drifts with prices (how buy-and-hold holds a panel).
    case hold
}

/// The actions a market environment accepts: the configured discrete levels or continuous weights over N assets.
public struct TradingActionSpace: Space, Equatable {
    public let kind: ActionKind
    public let levels: [Double]
    public let assets: Int
    public let longOnly: Bool
    public let maxGrossLeverage: Double
    /// Whether Σ|wᵢ| over N levels comes out the same in any order of addition: every level is a whole multiple of a
    /// power of two u and N·max|level| < 2⁵³·u, so that every partial sum is exact. A target of levels then has its
    /// gross added in vector lanes (`project(_:inAnyOrder:)`).
    let levelSumsAreExact: Bool
    /// The first four levels, the last repeated up to four (what `setTarget(ofLevels:_:)` picks from).
    let firstLevels: SIMD4<Double>

    public init(_ config: ActionConfig, assets: Int) {
        kind = config.kind
        levels = config.levels
        self.assets = assets
        longOnly = config.longOnly
        maxGrossLeverage = config.maxGrossLeverage
        let nonzero = levels.filter { $0 != 0 }
        if let largest = nonzero.map(abs).max(), largest.isFinite {
            // x = odd integer · 2^(exponent − significandWidth)
            let units = nonzero.map { x in
                Double(sign: .plus, exponent: x.exponent - Int(x.significandWidth), significand: 1)
            }
            levelSumsAreExact = Double(assets) * largest < 0x1p53 * units.min()!
        } else {
            levelSumsAreExact = nonzero.isEmpty
        }
        let given = config.levels
        firstLevels = SIMD4((0..<4).map { given.isEmpty ? 0 : given[min($0, given.count - 1)] })
    }

    /// The number of discrete choices per asset (K), 0 for continuous weights.
    public var discreteCount: Int { kind == .discrete ? levels.count : 0 }

    /// Discrete: a uniform level (per asset); weights: uniform in [lo, 1] per asset, then projected.
    public func sample(using rng: inout some RandomNumberGenerator) -> TradingAction {
        switch kind {
        case .discrete:
            if assets == 1 { return .index(Int.random(in: 0..<levels.count, using: &rng)) }
            return .indices((0..<assets).map { _ in Int.random(in: 0..<levels.count, using: &rng) })
        case .weights:
            let lo = longOnly ? 0.0 : -1.0
            var w = (0..<assets).map { _ in Double.random(in: lo...1, using: &rng) }
            project(&w)
            return .weights(w)
        }
    }

    /// Index actions must match the configured kind and size; target weights are accepted by every environment
    /// (baselines use them) when they are finite and of the right count.
    public func contains(_ action: TradingAction) -> Bool {
        switch action {
        case .index(let k): return kind == .discrete && assets == 1 && k >= 0 && k < levels.count
        case .indices(let ks):
            return kind == .discrete && ks.count == assets && ks.allSatisfy { $0 >= 0 && $0 < levels.count }
        case .weights(let w): return w.count == assets && w.allSatisfy(\.isFinite)
        case .hold: return true
        }
    }

    /// Clips shorts when long-only, then scales the vector down so that Σ|wᵢ| ≤ maxGrossLeverage. Shapes: w (N).
    public func project(_ w: inout [Double]) {
        w.withUnsafeMutableBufferPointer { project($0) }
    }

    /// `project` in place on a buffer of N weights.
    public func project(_ w: UnsafeMutableBufferPointer<Double>) { project(w, inAnyOrder: false) }

    /// Sets the target (N) of a panel's level indices ks (N), projected: `levels[ksᵢ]`, then `project`. Returns false,
    /// with the target undefined, when an index lies outside the levels.
    ///
    /// Up to 4 levels whose sums are exact (`levelSumsAreExact`, as [-1, 0, 1]), four assets at a time: each level is
    /// picked by comparing the indices with 1, 2, 3 (the same bits as the lookup), the indices are checked in the same
    /// vectors, and the gross is added as they are picked (in any order: exact). A lookup of 100 indices one by one,
    /// each with its check, was a sixth of a 100-asset step, and the projection read the target again.
    func setTarget(ofLevels ks: UnsafeBufferPointer<Int>, _ target: UnsafeMutablePointer<Double>) -> Bool {
        let n = ks.count, count = levels.count
        guard count <= 4, levelSumsAreExact, let k0 = ks.baseAddress else {
            let inside = levels.withUnsafeBufferPointer { levels in
                for i in 0..<n {
                    // checked here (the buffer's subscript is not, in a release build); negative k is a large UInt
                    guard UInt(bitPattern: ks[i]) < UInt(count) else { return false }
                    target[i] = levels[ks[i]]
                }
                return true
            }
            project(UnsafeMutableBufferPointer(start: target, count: n), inAnyOrder: levelSumsAreExact)
            return inside
        }
        typealias V = SIMD4<Double>
        typealias K = SIMD4<Int64>  // Int's lanes, as the masks of V's comparisons
        let l0 = V(repeating: firstLevels[0]), l1 = V(repeating: firstLevels[1]), l2 = V(repeating: firstLevels[2]),
            l3 = V(repeating: firstLevels[3])
        // Outside: a negative index (its sign bit, kept in `signs`) or one above the top.
        let top = K(repeating: Int64(count - 1))
        var signs = K(), above = K(), gross = V(), gross2 = V(), i = 0
        while i + 4 <= n {
            let k = UnsafeRawPointer(k0 + i).loadUnaligned(as: K.self)
            signs |= k
            above |= K(repeating: -1).replacing(with: 0, where: k .<= top)
            var t = l0.replacing(with: l1, where: k .== 1)
            t.replace(with: l2, where: k .== 2)
            t.replace(with: l3, where: k .== 3)
            if longOnly { t.replace(with: 0, where: t .< 0) }
            store(t, target + i)
            // (two chains of additions, not one: the sum is exact in any order)
            if i & 4 == 0 { gross += magnitude(t) } else { gross2 += magnitude(t) }
            i += 4
        }
        var rest = 0.0
        while i < n {
            guard UInt(bitPattern: ks[i]) < UInt(count) else { return false }
            target[i] = longOnly && levels[ks[i]] < 0 ? 0 : levels[ks[i]]
            rest += abs(target[i])
            i += 1
        }
        if any((signs | above) .< 0) { return false }
        cap(UnsafeMutableBufferPointer(start: target, count: n), gross: (gross + gross2).sum() + rest)
        return true
    }

    /// `project`, adding Σ|wᵢ| in four chains of four lanes when `inAnyOrder` (a sum the order of addition does not
    /// change, as one of levels when `levelSumsAreExact`; one chain of 25 vector additions held a 100-asset step
    /// waiting on their latency), else in sequence.
    func project(_ w: UnsafeMutableBufferPointer<Double>, inAnyOrder: Bool) {
        if longOnly { for i in w.indices where w[i] < 0 { w[i] = 0 } }
        var gross = 0.0, i = 0
        if inAnyOrder {
            let p = w.baseAddress!
            var a = SIMD4<Double>(), b = a, c = a, d = a
            while i + 16 <= w.count {
                a += magnitude(load(p + i, as: SIMD4<Double>.self))
                b += magnitude(load(p + i + 4, as: SIMD4<Double>.self))
                c += magnitude(load(p + i + 8, as: SIMD4<Double>.self))
                d += magnitude(load(p + i + 12, as: SIMD4<Double>.self))
                i += 16
            }
            while i + 4 <= w.count {
                a += magnitude(load(p + i, as: SIMD4<Double>.self))
                i += 4
            }
            gross = ((a + b) + (c + d)).sum()
        }
        while i < w.count {
            gross += abs(w[i])
            i += 1
        }
        cap(w, gross: gross)
    }

    /// The last step of `project`: w scaled down so that Σ|wᵢ| = maxGrossLeverage when its `gross` Σ|wᵢ| is above.
    func cap(_ w: UnsafeMutableBufferPointer<Double>, gross: Double) {
        if gross > maxGrossLeverage {
            let s = maxGrossLeverage / gross
            for i in w.indices { w[i] *= s }
        }
    }
}
