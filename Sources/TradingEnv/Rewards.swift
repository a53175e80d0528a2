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
