import Foundation

/// Moody & Saffell (2001) differential Sharpe ratio with moving moments A (mean) and B (second moment).
///
/// `Dₜ = (Bₜ₋₁·ΔAₜ − ½·Aₜ₋₁·ΔBₜ) / (Bₜ₋₁ − Aₜ₋₁²)^{3/2}` with `ΔAₜ = Rₜ − Aₜ₋₁`, `ΔBₜ = Rₜ² − Bₜ₋₁`, then
/// `Aₜ = Aₜ₋₁ + η·ΔAₜ`, `Bₜ = Bₜ₋₁ + η·ΔBₜ`. The moments start at A₀ = B₀ = 0 each episode, where the denominator is
/// 0: while `Bₜ₋₁ − Aₜ₋₁² ≤ 1e-14` the reward is 0 and only the moments update (the warm-up is the first bar with a
/// non-zero return).
public struct DifferentialSharpe: Sendable, Equatable {
    public let eta: Double
    public private(set) var a = 0.0
    public private(set) var b = 0.0

    public init(eta: Double) { self.eta = eta }

    /// The reward for trading return `r` (net of costs); updates the moments.
    public mutating func reward(_ r: Double) -> Double {
        let dA = r - a, dB = r * r - b
        let variance = b - a * a
        let d = variance > 1e-14 ? (b * dA - 0.5 * a * dB) / (variance * variance.squareRoot()) : 0
        a += eta * dA
        b += eta * dB
        return d
    }
}

/// The exponentially weighted standard deviation σₜ of price changes rₜ = pₜ − pₜ₋₁, computed causally over a whole
/// price series (σₜ uses r up to t only): `ewmStd(changes:span:)` of the changes, with r₀ = 0.
/// Shapes: prices (D) → σ (D).
public func ewmStd(ofChanges prices: [Double], span: Int) -> [Double] {
    ewmStd(changes: prices.indices.map { $0 == 0 ? 0 : prices[$0] - prices[$0 - 1] }, span: span)
}

/// The exponentially weighted standard deviation σₜ of a series rₜ (σₜ uses r up to t only) with α = 2 / (span + 1):
/// `mₜ = mₜ₋₁ + α(rₜ − mₜ₋₁)`, `vₜ = (1 − α)(vₜ₋₁ + α(rₜ − mₜ₋₁)²)`, σₜ = √vₜ; m₀ = v₀ = 0 and σ₀ = 0 (r₀ is not a
/// change). Shapes: r (D) → σ (D).
public func ewmStd(changes r: [Double], span: Int) -> [Double] {
    let alpha = 2 / (Double(span) + 1)
    var m = 0.0, v = 0.0
    var out = [Double](repeating: 0, count: r.count)
    for t in 1..<max(r.count, 1) {
        let d = r[t] - m
        m += alpha * d
        v = (1 - alpha) * (v + alpha * d * d)
        out[t] = v.squareRoot()
    }
    return out
}

/// Volatility targeting (Zhang, Zohren & Roberts 2019 eq. 3; the time-series momentum literature): the factor a chosen
/// position is scaled by at bar t, `min(σ_tgt / σₜ, maxLeverage)`, with σₜ = √P × the exponentially weighted std
/// (`span`) of the asset's daily simple returns up to t (information at t's close only); 0 while σₜ is 0 (the first
/// bar). Shapes: closes (D) → factors (D).
public func volatilityTargetScale(closes: [Double], config: SizingConfig) -> [Double] {
    let returns = closes.indices.map { $0 == 0 ? 0 : closes[$0] / closes[$0 - 1] - 1 }
    let annualisation = Double(config.periodsPerYear).squareRoot()
    return ewmStd(changes: returns, span: config.span).map { sigma in
        sigma > 0 ? min(config.annualTarget / (sigma * annualisation), config.maxLeverage) : 0
    }
}

/// Zhang, Zohren & Roberts (2019) eq. 4 for one asset, at bar t (the bar just closed):
/// `Rₜ = μ·[Aₜ₋₁·(σ_tgt/σₜ₋₁)·rₜ − bp·pₜ₋₁·|(σ_tgt/σₜ₋₁)·Aₜ₋₁ − (σ_tgt/σₜ₋₂)·Aₜ₋₂|]` with rₜ = pₜ − pₜ₋₁.
/// A σ of zero (the first bars of a series) counts as no scaled position: that term is 0.
@inlinable
public func volScaledReward(
    mu: Double, sigmaTarget: Double, costRate: Double,
    price: Double, previousPrice: Double,
    position: Double, previousPosition: Double,
    sigma: Double, previousSigma: Double
) -> Double {
    scaledPositionReward(
        mu: mu, costRate: costRate, price: price, previousPrice: previousPrice,
        scaled: sigma > 0 ? sigmaTarget / sigma * position : 0,
        previousScaled: previousSigma > 0 ? sigmaTarget / previousSigma * previousPosition : 0)
}

/// Eq. 4 on positions that are already scaled (`market.sizing` sized them when they were filled):
/// `Rₜ = μ·[Sₜ₋₁·rₜ − bp·pₜ₋₁·|Sₜ₋₁ − Sₜ₋₂|]`, S the scaled position held over the bar and the one before.
@inlinable
public func scaledPositionReward(
    mu: Double, costRate: Double, price: Double, previousPrice: Double,
    scaled: Double, previousScaled: Double
) -> Double {
    mu * (scaled * (price - previousPrice) - costRate * previousPrice * abs(scaled - previousScaled))
}

/// log x, the same bits as glibc's `log` on a CPU with FMA (the variant glibc picks on every CPU tradesim runs on),
/// inlined for x within [1 − 2⁻⁴, 1 + 0x1.09p−4] (a day's equity ratio; outside, `log` is called): glibc's path for x
/// near 1, operation for operation (ARM's optimized-routines `log.c`, MIT or Apache-2.0 licence, as glibc compiles it
/// with FMA: r = x − 1 and a degree-11 polynomial in r with the leading terms split in two, ≤ 0.52 ULP). Checked bit
/// for bit against `log` on 2 million inputs in the tests (60 million when written).
@inline(__always)
func logNearOne(_ x: Double) -> Double {
    let ix = x.bitPattern
    guard ix &- 0x3FEE_0000_0000_0000 < 0x0003_0900_0000_0000 else { return log(x) }
    if ix == 0x3FF0_0000_0000_0000 { return 0 }
    let b0 = -0x1p-1, b1 = 0x1.5555555555577p-2, b2 = -0x1.ffffffffffdcbp-3, b3 = 0x1.999999995dd0cp-3
    let b4 = -0x1.55555556745a7p-3, b5 = 0x1.24924a344de30p-3, b6 = -0x1.fffffa4423d65p-4
    let b7 = 0x1.c7184282ad6cap-4, b8 = -0x1.999eb43b068ffp-4, b9 = 0x1.78182f7afd085p-4
    let b10 = -0x1.5521375d145cdp-4
    let r = x - 1, r2 = r * r, r3 = r * r2
    let low = b1.addingProduct(r, b2).addingProduct(r2, b3)
    let middle = b4.addingProduct(r, b5).addingProduct(r2, b6)
    let high = b7.addingProduct(r, b8).addingProduct(r2, b9).addingProduct(r3, b10)
    let poly = low.addingProduct(middle.addingProduct(high, r3), r3)
    // r split into rhi (its leading 26 bits) + rlo, so that r − r²/2 is summed with its rounding error kept.
    let rhi = r.addingProduct(r, 0x1p27).addingProduct(-0x1p27, r), rlo = r - rhi
    let square = rhi * rhi
    let hi = r.addingProduct(square, b0)
    let lo = (r - hi).addingProduct(square, b0).addingProduct(b0 * rlo, r + rhi)
    return hi + lo.addingProduct(poly, r3)
}
