import Foundation
import MarketData
import RLCore

/// A seeded single-asset market whose only edge is a slow trend announced by a jump: R regimes of L bars (L = 126,
/// about 6 months of daily bars), regime r covering bars r·L ..< (r+1)·L with a direction s_r = ±1 (a fair coin,
/// independent of the other regimes). Bar t, in regime r = ⌊t/L⌋ at offset k = t − r·L, has the log return
///
///     x_t = s_r·(k == 0 ? jump : drift) + noise·ε_t,   ε_t ~ N(0, 1) i.i.d.,
///
/// close_t = 100·exp(x_0 + … + x_t), open_t = close_{t−1} (open_0 = 100), high_t = max(open_t, close_t)·1.002,
/// low_t = min(open_t, close_t)·0.998, volume 10⁶, daily timestamps from 2000-01-03. So a regime opens with a large
/// move in its direction and then drifts that way under noise; with the defaults (jump 9%, drift 0.02%, noise 0.2% a
/// bar) 32 bars of drift move the price by 0.57 standard deviations of their noise, while the jump is 4 standard
/// deviations of 126 bars' noise.
public struct TrendRegimeMarket: Sendable {
    /// The bars (1 asset × R·L).
    public let panel: Panel
    /// (R) s_r, each +1 or −1.
    public let directions: [Int]
    /// L, bars per regime.
    public let length: Int

    public init(
        regimes: Int, length: Int = 126, jump: Double = 0.09, drift: Double = 0.0002, noise: Double = 0.002,
        seed: UInt64 = 1
    ) {
        precondition(regimes >= 1 && length >= 1, "a trend-regime market needs at least one regime of one bar")
        var rng = Xoshiro256(seed: seed)
        let directions = (0..<regimes).map { _ in Int(rng.next() >> 63) * 2 - 1 }
        let d = regimes * length
        var open = [Double](repeating: 0, count: d), close = open
        var last = 100.0
        for t in 0..<d {
            let s = Double(directions[t / length])
            let x = s * (t % length == 0 ? jump : drift) + noise * standardNormal(using: &rng)
            open[t] = last
            close[t] = last * exp(x)
            last = close[t]
        }
        self.directions = directions
        self.length = length
        panel = Panel(
            source: "trend regimes(\(regimes)×\(length), seed \(seed))", tickers: ["T"],
            timestamps: (0..<d).map { 946_857_600 + Int64($0) * 86_400 }, open: open,
            high: zip(open, close).map { max($0, $1) * 1.002 },
            low: zip(open, close).map { min($0, $1) * 0.998 }, close: close,
            volume: [Double](repeating: 1e6, count: d), observed: [Bool](repeating: true, count: d))
    }

    /// s_r of the regime holding bar `t`.
    public func direction(atBar t: Int) -> Int { directions[t / length] }
}
