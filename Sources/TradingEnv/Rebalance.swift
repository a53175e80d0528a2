/// Lanes of the fill kernel; rows of `MarketEnv.book` and `MarketEnv.quotes` are padded to a multiple of it with an
/// asset that never trades (target 0, shares 0, price 1, impact 0).
let lanes = 4
typealias Lanes = SIMD4<Double>

/// N rounded up to whole lanes.
@inline(__always) func padded(_ n: Int) -> Int { (n + lanes - 1) / lanes * lanes }

@inline(__always) func magnitude(_ x: Lanes) -> Lanes { x.replacing(with: -x, where: x .< 0) }
@inline(__always) func load(_ p: UnsafePointer<Double>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
@inline(__always) func store(_ v: Lanes, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

/// What one step's fill amounted to.
struct RebalanceResult {
    var cash: Double, cost: Double, traded: Double, referenceEquity: Double, equity: Double
}

/// The fill of one step over flat buffers, four assets at a time: sizes every asset's target against equity at the fill
/// reference prices, fills with impact and commission, charges borrow on shorts and marks at the close.
///
/// Per asset i (exactly as written, lane by lane): desired = targetᵢ·E_ref / refᵢ (toward zero for whole shares);
/// q = desired − held, no trade when |q| ≤ 1e-12·max(|desired|, |held|); price = ref·(1 ± impact) in the direction of
/// the trade; commission = rate·|q|·price; fee = commission + |q|·ref·impact; cash −= q·price + commission.
/// Sums over assets run in four partial sums (a fixed order: deterministic).
///
/// Shapes: book (6, N₄) as `MarketEnv.book`; quote (3, N₄) of the fill bar: reference price, impact, close.
@inline(__always)
func rebalance(book: UnsafeMutablePointer<Double>, quote: UnsafePointer<Double>, n4: Int, cash: Double,
               commissionRate: Double, borrowRate: Double, fractional: Bool) -> RebalanceResult {
    let shares = book, target = book + n4
    let fillQuantity = book + 3 * n4, fillPrice = book + 4 * n4, fillCost = book + 5 * n4
    let reference = quote, impact = quote + n4, mark = quote + 2 * n4
    var value = Lanes()
    for i in stride(from: 0, to: n4, by: lanes) { value += load(shares + i) * load(reference + i) }
    let referenceEquity = cash + value.sum()
    var spent = Lanes(), costs = Lanes(), traded = Lanes()
    let rate = Lanes(repeating: commissionRate)
    for i in stride(from: 0, to: n4, by: lanes) {
        let ref = load(reference + i), imp = load(impact + i), held = load(shares + i)
        let exact = load(target + i) * referenceEquity / ref
        let desired = fractional ? exact : exact.rounded(.towardZero)
        var q = desired - held
        let a = magnitude(desired), b = magnitude(held)
        let trade = magnitude(q) .> 1e-12 * a.replacing(with: b, where: b .> a)
        q.replace(with: 0, where: .!trade)
        let price = ref * (1 + imp.replacing(with: -imp, where: q .< 0))
        let notional = magnitude(q) * price
        let commission = rate * notional
        let fee = commission + magnitude(q) * ref * imp
        spent += q * price + commission
        costs += fee
        traded += notional
        store(held.replacing(with: desired, where: trade), shares + i)
        store(q, fillQuantity + i)
        store(Lanes().replacing(with: price, where: trade), fillPrice + i)
        store(fee, fillCost + i)
    }
    var cashAfter = cash - spent.sum(), cost = costs.sum()
    // Borrow fee on shorts for the bar, then mark at the close.
    if borrowRate > 0 {
        var shorts = Lanes()
        for i in stride(from: 0, to: n4, by: lanes) {
            let s = load(shares + i)
            shorts -= (s * load(mark + i)).replacing(with: 0, where: s .>= 0)
        }
        let borrow = shorts.sum() * borrowRate
        cashAfter -= borrow
        cost += borrow
    }
    var marked = Lanes()
    for i in stride(from: 0, to: n4, by: lanes) { marked += load(shares + i) * load(mark + i) }
    return RebalanceResult(cash: cashAfter, cost: cost, traded: traded.sum(), referenceEquity: referenceEquity,
                           equity: cashAfter + marked.sum())
}
