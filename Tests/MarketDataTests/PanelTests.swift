import Testing
@testable import MarketData

@Test func panelIsDateMajor() {
    let p = Panel(source: "t", tickers: ["A", "B"], timestamps: [0, 86_400],
                  open: [1, 2, 3, 4], high: [1, 2, 3, 4], low: [1, 2, 3, 4], close: [10, 20, 30, 40],
                  volume: [0, 0, 0, 0], observed: [true, true, true, false])
    #expect(p.assetCount == 2)
    #expect(p.barCount == 2)
    #expect(p.close[1 * p.assetCount + 0] == 30)
}
