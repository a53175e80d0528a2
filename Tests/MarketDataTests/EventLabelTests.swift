import Testing

@testable import MarketData

@Suite struct EventLabelTests {
    // Closes by hand; up 1%, down 0.5%, horizon 3 (bars t+1…t+3).
    let closes = [100, 100.4, 101.1, 99.4, 100, 101.5, 100.9, 101.0, 101.2, 101.1, 101.3]

    @Test func handMadeSeriesThreeClasses() {
        let config = EventLabelConfig(up: 0.01, down: 0.005, horizon: 3, classes: 3)
        // t0: 101.1 ≥ 101 at t2 → up. t1: 99.4 ≤ 99.898 at t3 → down. t2: 99.4 ≤ 100.59 → down. t3: 101.5 ≥ 100.394 at
        // t5 (100 at t4 is below the barrier) → up. t4: 101.5 at t5 → up. t5: 100.9 ≤ 100.99 → down. t6, t7: neither.
        // t8…t10: the horizon runs past the data → −1.
        #expect(EventLabels.label(closes, config: config) == [1, 2, 2, 1, 1, 2, 0, 0, -1, -1, -1])
        var binary = config
        binary.classes = 2
        #expect(EventLabels.label(closes, config: binary) == [1, 0, 0, 1, 1, 0, 0, 0, -1, -1, -1])
    }

    @Test func theFirstBarrierCrossedDecides() {
        let config = EventLabelConfig(up: 0.01, down: 0.005, horizon: 2, classes: 3)
        // Both barriers are crossed within the horizon: the order decides.
        #expect(EventLabels.label([100, 99.4, 101.5], config: config)[0] == 2)
        #expect(EventLabels.label([100, 101.5, 99.4], config: config)[0] == 1)
        // A crossing after the horizon does not count.
        #expect(EventLabels.label([100, 100.2, 100.3, 102], config: config)[0] == 0)
    }

    @Test func boundaryBarsAreDropped() throws {
        let labels = EventLabels(
            config: EventLabelConfig(up: 0.01, down: 0.005, horizon: 3), values: [], series: [], weights: [])
        #expect(labels.labelledBars(in: 2..<10) == 2..<7)  // bar 6 reads up to bar 9, the split's last
        #expect(labels.labelledBars(in: 4..<6) == 4..<4)  // a split shorter than the horizon keeps nothing
    }

    @Test func labelsOfASplitIgnoreBarsAfterIt() throws {
        let config = EventLabelConfig(up: 0.01, down: 0.005, horizon: 3, classes: 3)
        var changed = closes
        for t in 8..<changed.count { changed[t] *= 1.5 }  // a split ending at bar 8 must not see these
        let a = EventLabels.label(closes, config: config), b = EventLabels.label(changed, config: config)
        let kept = EventLabels(config: config, values: a, series: closes, weights: [1]).labelledBars(in: 0..<8)
        #expect(kept == 0..<5)
        for t in kept { #expect(a[t] == b[t]) }
        #expect(a[5] != b[5] || a[6] != b[6] || a[7] != b[7])  // the dropped bars would have changed
    }

    @Test func basketAndTickerTargets() throws {
        let panel = Panel(
            source: "t", tickers: ["A", "B"], timestamps: [0, 86_400, 172_800],
            open: [10, 20, 11, 20, 11, 22], high: [10, 20, 11, 20, 11, 22], low: [10, 20, 11, 20, 11, 22],
            close: [10, 20, 11, 20, 11, 22], volume: [1, 1, 1, 1, 1, 1], observed: [Bool](repeating: true, count: 6))
        let basket = try EventLabels.compute(
            panel, config: EventLabelConfig(target: "basket", up: 0.04, down: 0.01, horizon: 1))
        // Mean simple returns: (0.1 + 0)/2 = 0.05, then (0 + 0.1)/2 = 0.05.
        #expect(abs(basket.series[1] - 1.05) < 1e-12 && abs(basket.series[2] - 1.1025) < 1e-12)
        #expect(basket.values == [1, 1, -1])
        #expect(basket.weights == [0.5, 0.5])
        let b = try EventLabels.compute(panel, config: EventLabelConfig(target: "B", up: 0.04, down: 0.01, horizon: 1))
        #expect(b.series == [20, 20, 22] && b.values == [0, 1, -1] && b.weights == [0, 1])
        #expect(throws: MarketDataError("labels: target 'C' is not 'basket' nor a ticker of the data (A, B)")) {
            try EventLabels.compute(panel, config: EventLabelConfig(target: "C", up: 0.01, down: 0.01, horizon: 1))
        }
        #expect(throws: MarketDataError("labels: horizon 0 must be at least 1 bar")) {
            try EventLabels.compute(panel, config: EventLabelConfig(up: 0.01, down: 0.01, horizon: 0))
        }
    }
}
