import Foundation
import MarketData
import Testing

@testable import Experiments

/// `data.features` and `data.side` in environment files: the list, its strict errors, the old form, the hash.
@Suite struct FeatureConfigTests {
    func decode(_ data: String) throws -> DataConfig {
        try StrictYAML.decode(EnvironmentSpec.self, yaml: "data:\n" + data, file: "e.yaml").data
    }

    func error(_ data: String) -> String {
        do { _ = try decode(data) } catch { return "\(error)" }
        return "no error"
    }

    @Test func aListOfNamedFeaturesWithParameters() throws {
        let config = try decode(
            """
              features:
                - logReturn
                - volumeZ: {window: 60}
                - volatility:
                - observed
            """)
        #expect(config.features.list == [.logReturn, .volumeZ(window: 60), .volatility(window: 20), .observed])
        // JSON (the stored configuration) round-trips it.
        let json = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(DataConfig.self, from: json) == config)
    }

    @Test func theOriginalFiveKeepTheirJSONAndHash() throws {
        // Omitted, the old mapping form and the same five as a list all encode as before the list existed.
        let omitted = try decode("  file: x.csv\n"), old = try decode("  file: x.csv\n  features: {volumeWindow: 20}\n")
        let list = try decode(
            "  file: x.csv\n"
                + "  features: [logReturn, range, body, {volumeZ: {window: 20}}, volatility]\n")
        #expect(omitted == old && old == list && omitted.features == FeatureConfig())
        let json = try sortedJSON(list)
        #expect(json.contains(#""features":{"volatilityWindow":20,"volumeWindow":20}"#))
        #expect(fnv1aHex(try sortedJSON(omitted)) == fnv1aHex(json))
        let other = try decode("  file: x.csv\n  features: [logReturn, {volumeZ: {window: 5}}]\n")
        #expect(try sortedJSON(other).contains(#""features":["logReturn",{"volumeZ":{"window":5}}]"#))
        let windows = try decode("  features: {volumeWindow: 5, volatilityWindow: 7}\n").features
        #expect(windows == FeatureConfig(volumeWindow: 5, volatilityWindow: 7))
    }

    /// The allowed feature names, as the errors list them.
    let names =
        "logReturn, range, body, volumeZ, volatility, level, returns, macd, rsi, zscore, calendar, "
        + "crossSectionalRank, observed"

    @Test func unknownNamesAreOneLineNamingTheAllowedOnes() {
        #expect(
            error("  features:\n    - logReturn\n    - volumez\n")
                == "e.yaml: line 4: key 'data.features.[1]': unknown feature 'volumez' (features: \(names))")
        #expect(
            error("  features:\n    - volumeZ: {windw: 3}\n") == "e.yaml: line 3: key 'data.features.[0].volumeZ': "
                + "unknown key 'windw' of feature volumeZ (known: window)")
        #expect(
            error("  features:\n    - logReturn: {window: 3}\n") == "e.yaml: line 3: key "
                + "'data.features.[0].logReturn': unknown key 'window' of feature logReturn (it takes none)")
        #expect(
            error("  features:\n    - {volumeZ: {}, volatility: {}}\n")
                == "e.yaml: line 3: key 'data.features.[0]': a feature is a name or a one-key mapping such as "
                + "{volumeZ: {window: 20}} (features: \(names))")
        #expect(
            error("  features:\n    - volumeZ: {window: abc}\n")
                == "e.yaml: key 'data.features.[0].volumeZ.window' must be an integer, got 'abc' (line 3)")
        #expect(
            error("  features: {volumeWindw: 5}\n")
                == "e.yaml: line 2: unknown key 'data.features.volumeWindw' (known keys: "
                + "volatilityWindow, volumeWindow)"
        )
        #expect(
            error("  features: volumeZ\n") == "e.yaml: line 2: key 'data.features': must be a list of features "
                + "(\(names)) or {volumeWindow, volatilityWindow}")
        #expect(error("  features:\n") == "no error")  // nothing after the key: the defaults
        // A list where another mapping is expected still says so.
        #expect(error("  splits: [1, 2]\n") == "e.yaml: key 'data.splits' must be a mapping, got a list (line 2)")
    }

    @Test func literatureFeaturesWithParameters() throws {
        let config = try decode(
            """
              features:
                - logReturn
                - returns: {horizons: [1, 21]}
                - macd:
                - rsi: {window: 30}
                - calendar: {monthOfYear: false}
                - crossSectionalRank: {of: return21}
            """)
        #expect(
            config.features.list == [
                .logReturn, .returns(horizons: [1, 21], normalise: .volatility, span: 60),
                .macd(pairs: [[8, 24], [16, 48], [32, 96]], priceWindow: 63, signalWindow: 252, response: false),
                .rsi(window: 30), .calendar(dayOfWeek: true, monthOfYear: false), .crossSectionalRank(of: "return21"),
            ])
        let json = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(DataConfig.self, from: json) == config)
        #expect(
            error("  features:\n    - returns: {normalise: sigma}\n")
                == "e.yaml: line 3: key 'data.features.[0].returns.normalise': 'sigma' is not one of volatility, none")
        #expect(
            error("  features:\n    - rsi: {windw: 3}\n")
                == "e.yaml: line 3: key 'data.features.[0].rsi': unknown key 'windw' of feature rsi (known: window)")
    }

    @Test func sideSeriesAreStrictToo() throws {
        let side = try decode(
            "  side:\n"
                + "    - {file: v.csv, column: CLOSE, name: VIX, features: [level, {zscore: {window: 5}}]}\n"
        ).side
        #expect(
            side == [
                SideSeriesConfig(
                    file: "v.csv", column: "CLOSE", name: "VIX",
                    features: FeatureConfig([.level, .zscore(window: 5)]))
            ])
        #expect(try decode("  side:\n    - {file: v.csv, column: CLOSE}\n").side[0].seriesName == "CLOSE")
        #expect(
            error("  side:\n    - {file: v.csv, colum: CLOSE}\n")
                == "e.yaml: line 3: key 'data.side.[0]': unknown key 'colum' of side series "
                + "(known: file, column, name, features, maxGapFill, lateStart)")
        #expect(
            error("  side:\n    - {file: v.csv, column: C, lateStart: later}\n")
                == "e.yaml: line 3: key 'data.side.[0].lateStart': 'later' is not one of error, zeros")
        #expect(
            error("  side:\n    - {file: v.csv, column: C, features: [vix]}\n").hasPrefix(
                "e.yaml: line 3: key 'data.side.[0].features.[0]': unknown feature 'vix' (features: logReturn"))
    }

    @Test func valuesAreCheckedWhenTheDataLoads() throws {
        let dir = try temporaryDirectory()
        func check(_ data: String) throws -> CLIResult {
            let file = dir + "/e.yaml"
            let yaml = "data:\n  file: \(repoRoot)/data/sp500_1999_2018_arch.csv\n" + data
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
            return try runCLI(["check-env", file, "--steps", "50"])
        }
        let window = try check("  features: [logReturn, {volumeZ: {window: 1}}]\n")
        #expect(
            window.failsWithOneErrorLine
                && window.stderr.contains(
                    "e.yaml: data: DataConfig: features: volumeZ window 1 must be at least 2"),
            "\(window.stderr)")
        let rank = try check("  features: [logReturn, {crossSectionalRank: {of: rsi}}]\n")
        #expect(
            rank.failsWithOneErrorLine
                && rank.stderr.contains(
                    "e.yaml: data: DataConfig: features: crossSectionalRank of 'rsi': "
                        + "not a column of the other features (logReturn)"),
            "\(rank.stderr)")
        let macd = try check("  features: [{macd: {pairs: [[24, 8]]}}]\n")
        #expect(
            macd.failsWithOneErrorLine
                && macd.stderr.contains("macd pairs [[24, 8]] must be distinct [short, long] with 1 <= short < long"))
        let vix = "\(repoRoot)/data/vix_ohlc_1990_2026_datahub.csv"
        let side = try check("  side:\n    - {file: \(vix), column: CLOSE, features: [volumeZ]}\n")
        #expect(
            side.failsWithOneErrorLine
                && side.stderr.contains(
                    "data: DataConfig: side series 'CLOSE': features: "
                        + "'volumeZ' is not available here (use: level, logReturn"
                ),
            "\(side.stderr)")
        let missing = try check("  side:\n    - {file: nowhere.csv, column: CLOSE}\n")
        #expect(
            missing.failsWithOneErrorLine && missing.stderr.contains("nowhere.csv: cannot open the file"),
            "\(missing.stderr)")
    }

    /// check-env shows the features and what sets the warm-up.
    @Test func checkEnvShowsTheWarmup() throws {
        let daily = try runCLI(["check-env", "environments/sp500-daily.yaml", "--steps", "100"])
        #expect(daily.status == 0, "\(daily.stderr)")
        #expect(daily.stdout.contains("features: 5 = 1 assets × 5, warm-up 20 bars"), "\(daily.stdout)")
        #expect(
            daily.stdout.contains(
                "warm-up: first observable bar 1999-02-02 "
                    + "(bars of look-back: volatility 20, volumeZ 19, logReturn 1)"), "\(daily.stdout)")
        let dir = try temporaryDirectory()
        let file = dir + "/e.yaml"
        try """
        data:
          file: \(repoRoot)/data/sp500_1999_2018_arch.csv
          features: [logReturn, returns, macd, rsi, calendar]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try runCLI(["check-env", file, "--steps", "100"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("features: 14 = 1 assets × 10 + 4 calendar, warm-up 313 bars"), "\(r.stdout)")
        #expect(
            r.stdout.contains(
                "warm-up: first observable bar 2000-03-30 "
                    + "(bars of look-back: macd 313, returns 252, rsi 14, logReturn 1)"), "\(r.stdout)")
        #expect(r.stdout.contains("  calendar.monthSin: train mean"))
        let vix = try runCLI(["check-env", "environments/sp500-vix.yaml", "--steps", "100"])
        #expect(
            vix.stdout.contains("features: 8 = 1 assets × 5 + 3 of side series VIX, warm-up 20 bars"),
            "\(vix.stdout)")
    }
}
