import Foundation
import Testing

@testable import MarketData

struct RepairTests {
    /// Row 3 and 4 break the high/low rules (clampable); 5 has a zero price, 6 is all null, 8 repeats 7's date,
    /// 9 has a negative volume.
    let text = """
        Date,Open,High,Low,Close,Volume
        2020-01-02,10,11,9,10.5,100
        2020-01-03,10,10.2,9,10.4,100
        2020-01-06,10,11,10.1,10.4,100
        2020-01-07,0,11,9,10,100
        2020-01-08,null,null,null,null,null
        2020-01-09,10,11,9,10,100
        2020-01-09,10,11,9,10,100
        2020-01-10,10,11,9,10,-1

        """

    @Test func errorPolicyStopsAtTheFirstBrokenRow() {
        #expect(loadError("r.csv", text) == "r.csv:3: column 'High': 10.2 is below max(open, close) 10.4")
    }

    @Test func dropPolicy() throws {
        let (p, r) = try load(writeTemp("r.csv", text)) { $0.repair = .drop }
        #expect(p.timestamps == [day("2020-01-02"), day("2020-01-09")])
        #expect(r.rowsRead == 8 && r.rowsDropped == 6 && r.nullRows == 1 && r.rowsRepaired == 0)
    }

    @Test func clampPolicy() throws {
        let (p, r) = try load(writeTemp("r.csv", text)) { $0.repair = .clamp }
        #expect(p.timestamps == [day("2020-01-02"), day("2020-01-03"), day("2020-01-06"), day("2020-01-09")])
        #expect(p.high[1] == 10.4 && p.low[1] == 9)  // high raised to the close
        #expect(p.low[2] == 10 && p.high[2] == 11)  // low lowered to the open
        #expect(r.rowsRepaired == 2 && r.rowsDropped == 4 && r.nullRows == 1)
    }

    @Test func clampFixesHighBelowLow() throws {
        let (p, r) = try load(writeTemp("r.csv", "Date,Open,High,Low,Close\n2020-01-02,9.5,9,10,9.6\n")) {
            $0.repair = .clamp
        }
        #expect(p.high == [9.6] && p.low == [9.5] && r.rowsRepaired == 1)
    }
}

struct AlignmentTests {
    /// A trades every day; B misses 2020-01-03 and 2020-01-06; C starts on 2020-01-06.
    func panelText(withC: Bool) -> String {
        var lines = ["Date,Ticker,Open,High,Low,Close,Volume"]
        let days = ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"]
        for (k, d) in days.enumerated() {
            lines.append("\(d),A,\(10 + k),\(11 + k),\(9 + k),\(10 + k),100")
            if k != 1 && k != 2 { lines.append("\(d),B,\(20 + k),\(21 + k),\(19 + k),\(20 + k),200") }
            if withC && k >= 2 { lines.append("\(d),C,\(30 + k),\(31 + k),\(29 + k),\(30 + k),300") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func gapsAreForwardFilledAndMasked() throws {
        let (p, r) = try load(writeTemp("g.csv", panelText(withC: false)))
        #expect(p.tickers == ["A", "B"] && p.barCount == 5)
        #expect(r.filledCells == 2)
        // B at bars 1 and 2: previous close 20, volume 0, not observed.
        for d in [1, 2] {
            let cell = d * 2 + 1
            #expect(p.open[cell] == 20 && p.high[cell] == 20 && p.low[cell] == 20 && p.close[cell] == 20)
            #expect(p.volume[cell] == 0 && !p.observed[cell])
        }
        #expect(p.observed == [true, true, true, false, true, false, true, true, true, true])
        #expect(p.close[3 * 2 + 1] == 23)
    }

    /// The `observed` feature is the mask: 0 on B's two forward-filled bars, 1 elsewhere (A always); on a coarser time
    /// frame a period counts as observed when any of its bars is.
    @Test func observedFeatureIsTheMask() throws {
        let (p, _) = try load(writeTemp("o.csv", panelText(withC: false)))
        let f = try FeatureMatrix.compute(p, config: FeatureConfig([.logReturn, .observed]))
        #expect(f.names == ["A.logReturn", "A.observed", "B.logReturn", "B.observed"] && f.warmup == 1)
        #expect((0..<5).map { f[$0, 1] } == [1, 1, 1, 1, 1])
        #expect((0..<5).map { f[$0, 3] } == [1, 0, 0, 1, 1])
        // The normaliser passes the mask as it is (standardised, B's column would be ±1) and scales the rest.
        let normalised = try Normaliser.fit(f, rows: 0..<5).apply(f)
        #expect((0..<5).map { normalised[$0, 3] } == [1, 0, 0, 1, 1] && normalised[1, 2] != f[1, 2])
        // Two weeks of two assets: B has no bar of its own in the first week and one in the second.
        let monday = DateParser.daysFromCivil(2001, 1, 1) * 86_400
        let timestamps: [Int64] = (0..<10).map { (k: Int) -> Int64 in monday + Int64(k / 5 * 7 + k % 5) * 86_400 }
        let ones = [Double](repeating: 1, count: 20)
        let weeks = Panel(
            source: "t", tickers: ["A", "B"], timestamps: timestamps, open: ones, high: ones, low: ones, close: ones,
            volume: ones, observed: (0..<20).map { (cell: Int) -> Bool in cell % 2 == 0 || cell == 17 })
        let (aggregated, lastBar) = Timeframes.aggregate(weeks, .weekly)
        #expect(lastBar == [4, 9] && aggregated.observed == [true, false, true, true])
    }

    @Test func tooLongGapIsAnError() {
        #expect(
            loadError("g.csv", panelText(withC: false)) { $0.maxGapFill = 1 }
                == "g.csv: ticker 'B': 2 bars missing from 2020-01-03 to 2020-01-06 (maxGapFill is 1)")
    }

    @Test func lateAssetDrop() throws {
        let (p, r) = try load(writeTemp("g.csv", panelText(withC: true)))
        #expect(p.tickers == ["A", "B"] && r.droppedAssets == ["C"] && p.barCount == 5)
    }

    /// An asset whose rows end early cannot be dropped: leaving it out of the bars before its end would choose
    /// them with what its later rows show (survivorship), so the load stops with one line naming it and the ways out.
    @Test func assetEndingEarlyIsNotDropped() throws {
        let text = panelText(withC: false) + "2020-01-02,C,30,31,29,30,300\n2020-01-03,C,31,32,30,31,300\n"
        let early =
            "g.csv: ticker 'C' ends 2020-01-03, before the panel's last bar 2020-01-08; lateAssets: drop would "
            + "leave it out of every bar, a choice made with rows after them (survivorship bias): end the data there "
            + "(data.end), use lateAssets: trim, or list the tickers to keep (data.tickers)"
        #expect(loadError("g.csv", text) == early)
        let two = text + "2020-01-02,D,40,41,39,40,400\n"
        #expect(loadError("g.csv", two) == early.replacingOccurrences(of: "08;", with: "08 (and 1 more: D);"))
        let (trimmed, _) = try load(writeTemp("g.csv", text)) { $0.lateAssets = .trim }
        #expect(trimmed.tickers == ["A", "B", "C"] && trimmed.timestamps == [day("2020-01-02"), day("2020-01-03")])
    }

    /// One stray row of A after every other ticker's end would leave A alone: an error naming who sets the range,
    /// not a panel silently shrunk to one asset. Dropping a minority (C, late) stays allowed.
    @Test func lateAssetDropOfMostOfThePanelIsAnError() throws {
        let stray = panelText(withC: true) + "2020-01-09,A,15,16,14,15,100\n"
        #expect(
            loadError("s.csv", stray)
                == "s.csv: lateAssets: drop would keep 1 of 3 assets (A), the only ones from 2020-01-02 (the first bar "
                + "of A, B) to 2020-01-09 (the last bar of A); check those rows, or use lateAssets: trim")
    }

    @Test func lateAssetTrim() throws {
        let (p, r) = try load(writeTemp("g.csv", panelText(withC: true))) { $0.lateAssets = .trim }
        #expect(p.tickers == ["A", "B", "C"] && r.droppedAssets.isEmpty)
        #expect(p.timestamps == [day("2020-01-06"), day("2020-01-07"), day("2020-01-08")])
        #expect(r.trimmedBars == 2)
        // B has no bar on 2020-01-06 but one before the trimmed calendar: filled from 2020-01-02's close.
        #expect(p.close[0 * 3 + 1] == 20 && !p.observed[0 * 3 + 1] && r.filledCells == 1)
        #expect(p.close[0 * 3 + 2] == 32)
    }

    @Test func staggeredAndDisjointAssets() throws {
        let staggered = "Date,X,Y\n2020-01-02,1,\n2020-01-03,1,2\n2020-01-06,1,2\n2020-01-07,,2\n"
        #expect(
            loadError("s.csv", staggered)
                == "s.csv: no asset covers the whole range 2020-01-02..2020-01-07 (lateAssets: "
                + "drop); use lateAssets: trim"
        )
        let (p, _) = try load(writeTemp("s.csv", staggered)) { $0.lateAssets = .trim }
        #expect(p.timestamps == [day("2020-01-03"), day("2020-01-06")] && p.observed.allSatisfy { $0 })
        let disjoint = "Date,X,Y\n2020-01-02,1,\n2020-01-03,,2\n"
        #expect(
            loadError("d.csv", disjoint) { $0.lateAssets = .trim }
                == "d.csv: the assets share no dates (one starts 2020-01-03, another ends 2020-01-02)")
    }

    @Test func wideFileGapsUseTheSameRules() throws {
        let text = "Date,X,Y\n2020-01-02,1,2\n2020-01-03,1.5,\n2020-01-06,2,null\n2020-01-07,2.5,3\n"
        let (p, r) = try load(writeTemp("w.csv", text))
        #expect(p.tickers == ["X", "Y"] && r.filledCells == 2 && p.close == [1, 2, 1.5, 2, 2, 2, 2.5, 3])
        #expect(
            loadError("w.csv", text) { $0.maxGapFill = 1 }
                == "w.csv: ticker 'Y': 2 bars missing from 2020-01-03 to 2020-01-06 (maxGapFill is 1)")
    }
}
