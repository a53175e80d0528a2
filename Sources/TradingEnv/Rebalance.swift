/// Rows of `MarketEnv.book` and `MarketEnv.quotes` are padded to whole SIMD vectors with an asset that never trades
/// (target 0, shares 0, price 1, impact 0): 2 lanes for one or two assets, 4 lanes (AVX) beyond.
@inline(__always) func laneCount(assets n: Int) -> Int { n <= 2 ? 2 : 4 }

/// N rounded up to whole vectors.
@inline(__always) func padded(_ n: Int) -> Int { let l = laneCount(assets: n); return (n + l - 1) / l * l }

/// |x| lane by lane, by clearing the sign bit (one instruction). It differs from `x < 0 ? −x : x` only in the sign of
/// −0 and of NaN, neither of which changes a result of `rebalance`: there, magnitudes are compared (±0 compare equal,
/// NaN compares false) or multiply a quantity that is either +0 or a finite non-zero number.
@inline(__always) func magnitude<L: SIMD>(_ x: L) -> L where L.Scalar == Double {
    unsafeBitCast(unsafeBitCast(x, to: L.MaskStorage.self) & L.MaskStorage(repeating: .max), to: L.self)
}

/// −x where y's sign bit is set (y < 0, or −0), x elsewhere, lane by lane: y's sign bit xored into x, two bitwise
/// operations where `x.replacing(with: −x, where: y .< 0)` takes a compare and a blend (four micro-operations on Intel
/// cores; a 100-asset step 1.03× faster on an Emerald Rapids Xeon).
@inline(__always) func signed<L: SIMD>(_ x: L, as y: L) -> L where L.Scalar == Double {
    typealias Bits = L.MaskStorage
    let sign = unsafeBitCast(y, to: Bits.self) & Bits(repeating: .min)
    return unsafeBitCast(unsafeBitCast(x, to: Bits.self) ^ sign, to: L.self)
}

@inline(__always) func load<L: SIMD>(_ p: UnsafePointer<Double>, as: L.Type) -> L {
    UnsafeRawPointer(p).loadUnaligned(as: L.self)
}
@inline(__always) func store<L: SIMD>(_ v: L, _ p: UnsafeMutablePointer<Double>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: L.self)
}

/// What one step's fill amounted to.
struct RebalanceResult {
    var cash: Double, cost: Double, traded: Double, referenceEquity: Double, equity: Double
    /// One or two assets: the book after the fill at the next fill bar's reference prices (its `referenceValue`
    /// there); 0 for more.
    var nextValue: Double
}

/// The book's value at the fill bar's reference prices, Σᵢ sharesᵢ·refᵢ, added lane by lane and then across the lanes
/// (the order the fill has always sized in). Where it is taken decides how long a step waits on it:
/// - more than two assets: the step takes it before it sets the target, which does not change the shares, so that its
///   chain of dependent additions (25 for 100 assets) runs beside the level lookups, where it held the fill waiting
///   (taken in the fill's loop instead, as below, a 100-asset step ran 0.96×);
/// - one or two assets: the fill before leaves it (`RebalanceResult.nextValue`, the same sum of the same products), so
///   that the step's chain of dependent work starts at the division (one asset 1.07× against taking it first).
///
/// Out of line: inlined, its loop left the one-asset step too large for its fill to be inlined (one asset 0.96×).
/// Shapes: book (5, N₄) (row 0 used here); quote (3, N₄) of the fill bar (row 0 used here).
@inline(never)
func referenceValue(book: UnsafePointer<Double>, quote: UnsafePointer<Double>, n4: Int) -> Double {
    n4 == 2
        ? referenceValue(SIMD2<Double>.self, book: book, quote: quote, n4: 2)
        : referenceValue(SIMD4<Double>.self, book: book, quote: quote, n4: n4)
}

/// `referenceValue` with vectors of type L.
@inline(__always)
func referenceValue<L: SIMD>(_: L.Type, book: UnsafePointer<Double>, quote: UnsafePointer<Double>, n4: Int) -> Double
where L.Scalar == Double {
    var value = L()
    for i in stride(from: 0, to: n4, by: L.scalarCount) {
        value += load(book + i, as: L.self) * load(quote + i, as: L.self)
    }
    return value.sum()
}

/// The fill of one step over flat buffers, four assets at a time: sizes every asset's target against equity at the fill
/// reference prices (cash + `value`, the book's `referenceValue` there), fills with impact and commission, charges
/// borrow on shorts and marks at the close; for one or two assets, also the `referenceValue` of the book it leaves at
/// `nextReference` (the next fill bar's reference prices).
///
/// Per asset i (exactly as written, lane by lane): desired = targetᵢ·E_ref / refᵢ (toward zero for whole shares);
/// q = desired − held, no trade when |q| ≤ τᵢ·max(|desired|, |held|) (τ = `tolerances`: `tradeTolerance`, or +∞ for
/// an asset without a bar of its own at the fill; `tradeTolerance` throughout on two lanes, the one or two assets of a
/// panel without gaps, since `MarketEnv` gives a gappy panel of two four lanes); price = ref·(1 ± impact) in the
/// direction of the trade; commission = rate·|q|·price; fee = commission + |q|·ref·impact; cash −= q·price +
/// commission.
/// Sums over assets run in four partial sums (a fixed order: deterministic). `hold`: no asset trades (q = 0
/// everywhere).
///
/// The fill leaves each asset's quantity; `scalarFill` gives its price and cost from it on demand (`fillTerms`, as
/// here: the same bits).
///
/// Shapes: book (5, N₄) as `MarketEnv.book` (rows 0–3 used here; N = `n` assets, then zero pads); quote (3, N₄) of
/// the fill bar: reference price, impact, close; nextReference (N₄); tolerances (N₄), asked for on four lanes only.
@inline(__always)
func rebalance(
    book: UnsafeMutablePointer<Double>, quote: UnsafePointer<Double>, nextReference: UnsafePointer<Double>, n: Int,
    n4: Int, cash: Double, value: Double, commissionRate: Double, borrowRate: Double, fractional: Bool,
    hold: Bool = false, tolerances: () -> UnsafePointer<Double>
) -> RebalanceResult {
    // One or two assets: one vector, with the loops unrolled away.
    n4 == 2
        ? rebalance(
            SIMD2<Double>.self, book: book, quote: quote, nextReference: nextReference, n: n, n4: 2, cash: cash,
            value: value, commissionRate: commissionRate, borrowRate: borrowRate, fractional: fractional, hold: hold,
            tolerances: nil)
        : rebalance(
            SIMD4<Double>.self, book: book, quote: quote, nextReference: nextReference, n: n, n4: n4, cash: cash,
            value: value, commissionRate: commissionRate, borrowRate: borrowRate, fractional: fractional, hold: hold,
            tolerances: tolerances())
}

/// What fills of q shares pay, lane by lane, as `rebalance` charges them: the price per share (the reference price
/// moved by the impact against the trade; a lane where q is +0 gets the buy price and pays nothing), the notional
/// |q|·price, the commission rate·notional and the fee, commission + |q|·ref·impact.
@inline(__always)
func fillTerms<L: SIMD>(_ q: L, reference ref: L, impact imp: L, rate: L) -> (
    price: L, notional: L, commission: L, fee: L
) where L.Scalar == Double {
    let price = ref * (L(repeating: 1) + signed(imp, as: q))
    let notional = magnitude(q) * price
    let commission = rate * notional
    return (price, notional, commission, commission + magnitude(q) * ref * imp)
}

/// The price per share and the cost (`fillTerms`' fee) of one fill of `quantity` shares, the same bits as `rebalance`
/// gives its lane; both 0 when the quantity is 0.
@inline(__always)
func scalarFill(quantity q: Double, reference: Double, impact: Double, commissionRate: Double) -> (
    price: Double, cost: Double
) {
    if q == 0 { return (0, 0) }
    let t = fillTerms(
        SIMD2(q, 0), reference: SIMD2(reference, 0), impact: SIMD2(impact, 0), rate: SIMD2(commissionRate, 0))
    return (t.price[0], t.fee[0])
}

/// The relative change below which an asset does not trade (`rebalance`'s τ): rounding in the sizing, not a trade.
let tradeTolerance = 1e-12

/// `rebalance` with vectors of type L.
@inline(__always)
func rebalance<L: SIMD>(
    _: L.Type, book: UnsafeMutablePointer<Double>, quote: UnsafePointer<Double>, nextReference: UnsafePointer<Double>,
    n: Int, n4: Int, cash: Double, value: Double, commissionRate: Double, borrowRate: Double, fractional: Bool,
    hold: Bool, tolerances: UnsafePointer<Double>?
) -> RebalanceResult where L.Scalar == Double {
    typealias Lanes = L
    let lanes = L.scalarCount
    let shares = book, target = book + n4, fillQuantity = book + 3 * n4
    let reference = quote, impact = quote + n4, mark = quote + 2 * n4
    let referenceEquity = cash + value
    var spent = Lanes(), costs = Lanes(), traded = Lanes(), marked = Lanes(), nextValue = Lanes()
    let carries = lanes == 2  // one or two assets (see `referenceValue`)
    let rate = Lanes(repeating: commissionRate), equity = Lanes(repeating: referenceEquity)
    // `hold`: a tolerance no |change| exceeds (∞·x is ∞, or NaN when x = 0), so that no asset trades.
    let never = Lanes(repeating: .infinity), uniform = Lanes(repeating: tradeTolerance)
    // One asset: its target read as a scalar beside the zero pad. A vector load would span the 8-byte store the step
    // has just made (`setTarget`), which a store cannot forward, and wait for that store to reach the cache: behind
    // everything before it, so that steps ran one after another (one asset 1.14×, 8 A/B pairs on a Zen 3).
    let scalarTarget = lanes == 2 && n == 1
    // The shares each target asks for, one vector ahead of the rest of the fill (the last one asked for twice): the
    // division and rounding, the longest wait of a vector's work, then run while the vector before is filled.
    @inline(__always) func asked(at i: Int) -> L {
        var goal = L()
        if scalarTarget { goal[0] = target[0] } else { goal = load(target + i, as: L.self) }
        let exact = goal * equity / load(reference + i, as: L.self)
        return fractional ? exact : exact.rounded(.towardZero)
    }
    var ahead = asked(at: 0)
    for i in stride(from: 0, to: n4, by: lanes) {
        let desired = ahead
        ahead = asked(at: min(i + lanes, n4 - lanes))
        let ref = load(reference + i, as: L.self), imp = load(impact + i, as: L.self),
            held = load(shares + i, as: L.self)
        let change = desired - held, a = magnitude(desired), b = magnitude(held)
        let tau = hold ? never : tolerances.map { load($0 + i, as: L.self) } ?? uniform
        let trade = magnitude(change) .> tau * a.replacing(with: b, where: b .> a)
        let q = Lanes().replacing(with: change, where: trade)
        // q is +0 where nothing trades, never −0: nothing is paid there.
        let (price, notional, commission, fee) = fillTerms(q, reference: ref, impact: imp, rate: rate)
        spent += q * price + commission
        costs += fee
        traded += notional
        let now = held.replacing(with: desired, where: trade)
        marked += now * load(mark + i, as: L.self)
        if carries { nextValue += now * load(nextReference + i, as: L.self) }
        store(now, shares + i)
        store(q, fillQuantity + i)
    }
    var cashAfter = cash - spent.sum(), cost = costs.sum()
    // Borrow fee on shorts for the bar (the book is marked at the close above).
    if borrowRate > 0 {
        var shorts = Lanes()
        for i in stride(from: 0, to: n4, by: lanes) {
            let s = load(shares + i, as: L.self)
            shorts -= (s * load(mark + i, as: L.self)).replacing(with: 0, where: s .>= 0)
        }
        let borrow = shorts.sum() * borrowRate
        cashAfter -= borrow
        cost += borrow
    }
    return RebalanceResult(
        cash: cashAfter, cost: cost, traded: traded.sum(), referenceEquity: referenceEquity,
        equity: cashAfter + marked.sum(), nextValue: nextValue.sum())
}
