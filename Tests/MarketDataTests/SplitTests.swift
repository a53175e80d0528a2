import Testing

@testable import MarketData

struct SplitTests {
    /// Three bars in each year 2000…2005.
    let timestamps: [Int64] = (2000...2005).flatMap { y in ["\(y)-01-03", "\(y)-06-01", "\(y)-12-29"].map(day) }

    @Test func yearRangesBecomeBarRanges() throws {
        let r = try Splits.ranges(
            SplitConfig(train: [2000, 2002], validation: [2003, 2003], test: [2004, 2005]), timestamps: timestamps)
        #expect(r.train == 0..<9 && r.validation == 9..<12 && r.test == 12..<18)
        let unset = try Splits.ranges(
            SplitConfig(train: [2000, 2001], validation: [], test: []), timestamps: timestamps)
        #expect(unset.train == 0..<6 && unset.validation.isEmpty && unset.test.isEmpty)
        let gap = try Splits.ranges(
            SplitConfig(train: [2000, 2001], validation: [], test: [2004, 2005]), timestamps: timestamps)
        #expect(gap.test == 12..<18)
    }

    @Test func badSplitsAreNamed() {
        func message(_ c: SplitConfig) -> String {
            do { _ = try Splits.ranges(c, timestamps: timestamps); return "no error" } catch { return "\(error)" }
        }
        #expect(
            message(SplitConfig(train: [2000, 2002], validation: [2002, 2003], test: [2004, 2005]))
                == "DataConfig: splits 'train' (2000–2002) and 'validation' (2002–2003) overlap")
        #expect(
            message(SplitConfig(train: [2003, 2004], validation: [2000, 2001], test: []))
                == "DataConfig: split 'validation' (2000–2001) comes before 'train' (2003–2004); "
                + "order must be train, validation, test"
        )
        #expect(
            message(SplitConfig(train: [2000, 2002], validation: [2003, 2003], test: [2010, 2011]))
                == "DataConfig: split 'test' (2010–2011) has no bars in the data (bars 2000-01-03..2005-12-29)")
        #expect(
            message(SplitConfig(train: [2002], validation: [], test: []))
                == "DataConfig: splits.train [2002] must be [first year, last year] with first <= last")
        #expect(
            message(SplitConfig(train: [], validation: [], test: []))
                == "DataConfig: splits.train [] must be [first year, last year] with first <= last")
    }

    @Test func walkForwardWindows() throws {
        let w = try Splits.walkForward(
            WalkForwardConfig(trainYears: 2, testYears: 1, stepYears: 1), timestamps: timestamps)
        #expect(w.count == 4)
        #expect(
            w[0].trainYears == 2000...2001 && w[0].testYears == 2002...2002 && w[0].train == 0..<6 && w[0].test == 6..<9
        )
        #expect(w[3].trainYears == 2003...2004 && w[3].train == 9..<15 && w[3].test == 15..<18)
        let step2 = try Splits.walkForward(
            WalkForwardConfig(trainYears: 2, testYears: 2, stepYears: 2), timestamps: timestamps)
        #expect(step2.map(\.testYears) == [2002...2003, 2004...2005])
        #expect(try Splits.walkForward(WalkForwardConfig(), timestamps: timestamps).isEmpty)
        #expect(throws: MarketDataError("DataConfig: walkForward needs 7 years but the data covers 2000–2005")) {
            try Splits.walkForward(WalkForwardConfig(trainYears: 6, testYears: 1, stepYears: 1), timestamps: timestamps)
        }
    }
}
