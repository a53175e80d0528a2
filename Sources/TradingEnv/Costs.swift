/// Trading frictions, all in basis points (1 bp = 0.0001) of traded notional unless said.
public struct CostModel: Codable, Equatable, Sendable {
    /// Broker commission per unit of traded notional, in bps.
    public var commissionBps: Double = 0
    /// Half the bid-ask spread, in bps: buys fill this much above the reference price, sells below.
    public var halfSpreadBps: Double = 0
    /// Fixed slippage, in bps, added in the direction of the trade.
    public var slippageBps: Double = 0
    /// Slippage as a fraction of the fill bar's (high − low) / open range, added in the direction of the trade.
    public var slippageRangeFraction: Double = 0
    /// Annual borrow fee on the notional of short positions, in bps a year, charged every bar (dt from timestamps).
    public var borrowBpsPerYear: Double = 0

    public init(
        commissionBps: Double = 0, halfSpreadBps: Double = 0, slippageBps: Double = 0,
        slippageRangeFraction: Double = 0, borrowBpsPerYear: Double = 0
    ) {
        self.commissionBps = commissionBps
        self.halfSpreadBps = halfSpreadBps
        self.slippageBps = slippageBps
        self.slippageRangeFraction = slippageRangeFraction
        self.borrowBpsPerYear = borrowBpsPerYear
    }

    /// The commission per unit of traded notional.
    var commissionRate: Double { commissionBps * 1e-4 }

    /// The relative price impact of a trade at a bar whose range is `high − low` around `reference`:
    /// a buy fills at `reference · (1 + impact)`, a sell at `reference · (1 − impact)`.
    @inlinable
    public func impact(reference: Double, high: Double, low: Double) -> Double {
        (halfSpreadBps + slippageBps) * 1e-4 + slippageRangeFraction * (high - low) / reference
    }
}
