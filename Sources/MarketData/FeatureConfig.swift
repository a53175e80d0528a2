/// One entry of `data.features`: a feature and its parameters (formulas: `FeatureMatrix.compute`).
///
/// In YAML a bare name takes every parameter's default (`- logReturn`, `- volumeZ`); a one-key mapping sets some
/// (`- volumeZ: {window: 60}`). An unknown name or parameter is an error naming the allowed ones.
public enum Feature: Sendable, Equatable {
    case logReturn, range, body, level
    case volumeZ(window: Int)
    case volatility(window: Int)
    /// Returns over each horizon h, divided by σ·√h (`normalise: volatility`, σ an EWM std of span `span`) or not.
    case returns(horizons: [Int], normalise: ReturnScale, span: Int)
    /// Baz et al.'s normalised MACD per (short, long) pair; `response` passes it through y·exp(−y²/4)/0.89.
    case macd(pairs: [[Int]], priceWindow: Int, signalWindow: Int, response: Bool)
    case rsi(window: Int)
    case zscore(window: Int)
    /// Market-wide: sin/cos of the bar's weekday and month.
    case calendar(dayOfWeek: Bool, monthOfYear: Bool)
    /// Each asset's rank of the column `of` among the panel's assets at every bar, in [−1, 1].
    case crossSectionalRank(of: String)
    /// 1 where the asset has a bar of its own, 0 where the panel's alignment carried its previous close forward.
    case observed

    /// Every feature with its parameters at their defaults, in the order the README lists them.
    public static let defaults: [Feature] = [
        .logReturn, .range, .body, .volumeZ(window: 20), .volatility(window: 20), .level,
        .returns(horizons: [1, 21, 63, 126, 252], normalise: .volatility, span: 60),
        .macd(pairs: [[8, 24], [16, 48], [32, 96]], priceWindow: 63, signalWindow: 252, response: false),
        .rsi(window: 14), .zscore(window: 20), .calendar(dayOfWeek: true, monthOfYear: true),
        .crossSectionalRank(of: ""), .observed,
    ]

    /// The longest look-back a parameter may set (windows, horizons, spans, MACD periods): 100,000 bars, four
    /// centuries of daily bars or eleven years of hourly ones (a train split must hold the warm-up anyway).
    public static let maxLookBack = 100_000

    /// The YAML name, e.g. `returns`.
    public var name: String {
        switch self {
        case .logReturn: "logReturn"
        case .range: "range"
        case .body: "body"
        case .level: "level"
        case .volumeZ: "volumeZ"
        case .volatility: "volatility"
        case .returns: "returns"
        case .macd: "macd"
        case .rsi: "rsi"
        case .zscore: "zscore"
        case .calendar: "calendar"
        case .crossSectionalRank: "crossSectionalRank"
        case .observed: "observed"
        }
    }

    /// The parameters as written in YAML, in order.
    var parameters: [(key: String, value: any Encodable)] {
        switch self {
        case .logReturn, .range, .body, .level, .observed: []
        case .volumeZ(let w), .volatility(let w), .rsi(let w), .zscore(let w): [("window", w)]
        case .returns(let horizons, let normalise, let span):
            [("horizons", horizons), ("normalise", normalise.rawValue), ("span", span)]
        case .macd(let pairs, let priceWindow, let signalWindow, let response):
            [("pairs", pairs), ("priceWindow", priceWindow), ("signalWindow", signalWindow), ("response", response)]
        case .calendar(let dayOfWeek, let monthOfYear): [("dayOfWeek", dayOfWeek), ("monthOfYear", monthOfYear)]
        case .crossSectionalRank(let of): [("of", of)]
        }
    }

    /// True for the calendar: one set of columns per bar, after every asset's block.
    public var isMarketWide: Bool { if case .calendar = self { true } else { false } }

    /// The feature's columns: per asset (`return21`, `macd8_24`; named `TICKER.column` in the matrix) or, for the
    /// calendar, market-wide (`calendar.dayOfWeekSin`, …).
    public var columns: [String] {
        switch self {
        case .returns(let horizons, _, _): horizons.map { "return\($0)" }
        case .macd(let pairs, _, _, _): pairs.map { "macd\($0.first ?? 0)_\($0.last ?? 0)" }
        case .calendar(let dayOfWeek, let monthOfYear):
            (dayOfWeek ? ["calendar.dayOfWeekSin", "calendar.dayOfWeekCos"] : [])
                + (monthOfYear ? ["calendar.monthSin", "calendar.monthCos"] : [])
        case .crossSectionalRank(let of): ["\(of)Rank"]
        default: [name]
        }
    }

    /// Bars before the first bar where every column is defined (rows before it hold 0), ranks aside (they take the
    /// warm-up of the column they rank: `FeatureConfig.warmups`).
    var lookBack: Int {
        switch self {
        case .range, .body, .level, .calendar, .crossSectionalRank, .observed: 0
        case .logReturn: 1
        case .volumeZ(let w), .zscore(let w): w - 1
        case .volatility(let w), .rsi(let w): w
        case .returns(let horizons, let normalise, let span):
            max(horizons.max() ?? 0, normalise == .volatility ? span : 0)
        case .macd(_, let priceWindow, let signalWindow, _): priceWindow - 1 + signalWindow - 1
        }
    }

    /// The feature `name` with the parameters `p` gives (defaults for those it lacks).
    init(name: String, _ p: StrictMapping) throws {
        switch Self.defaults.first(where: { $0.name == name })! {
        case .logReturn: self = .logReturn
        case .range: self = .range
        case .body: self = .body
        case .level: self = .level
        case .volumeZ(let w): self = .volumeZ(window: try p("window", w))
        case .volatility(let w): self = .volatility(window: try p("window", w))
        case .rsi(let w): self = .rsi(window: try p("window", w))
        case .zscore(let w): self = .zscore(window: try p("window", w))
        case .returns(let horizons, let normalise, let span):
            self = .returns(
                horizons: try p("horizons", horizons), normalise: try p.choice("normalise", normalise),
                span: try p("span", span))
        case .macd(let pairs, let priceWindow, let signalWindow, let response):
            self = .macd(
                pairs: try p("pairs", pairs), priceWindow: try p("priceWindow", priceWindow),
                signalWindow: try p("signalWindow", signalWindow), response: try p("response", response))
        case .calendar(let dayOfWeek, let monthOfYear):
            self = .calendar(dayOfWeek: try p("dayOfWeek", dayOfWeek), monthOfYear: try p("monthOfYear", monthOfYear))
        case .crossSectionalRank(let of): self = .crossSectionalRank(of: try p("of", of))
        case .observed: self = .observed
        }
    }
}

/// How `returns` scales each return.
public enum ReturnScale: String, Codable, Sendable, CaseIterable {
    /// r(t−h, t) / (σ_t·√h).
    case volatility
    /// r(t−h, t) as it is.
    case none
}

extension Feature: Codable {
    public init(from decoder: any Decoder) throws {
        let names = Self.defaults.map(\.name)
        func known(_ name: String) throws -> StrictMapping.Key {
            guard names.contains(name) else {
                let message = "unknown feature '\(name)' (features: \(names.joined(separator: ", ")))"
                throw StrictMapping.error(decoder.codingPath, message)
            }
            return StrictMapping.Key(name)
        }
        func parameters(_ name: String) -> [String] {
            Self.defaults.first { $0.name == name }!.parameters.map(\.key)
        }
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            _ = try known(name)
            self = try Feature(name: name, StrictMapping(defaultsAt: decoder.codingPath))
            return
        }
        let keyed = try? decoder.container(keyedBy: StrictMapping.Key.self)
        guard let keyed, keyed.allKeys.count == 1, let key = keyed.allKeys.first else {
            throw StrictMapping.error(
                decoder.codingPath,
                "a feature is a name or a one-key mapping such as "
                    + "{volumeZ: {window: 20}} (features: \(names.joined(separator: ", ")))")
        }
        let name = try known(key.stringValue).stringValue
        let p = try StrictMapping(keyed.superDecoder(forKey: key), what: "feature \(name)", allowed: parameters(name))
        self = try Feature(name: name, p)
    }

    /// A bare name when the feature has no parameters, else `{name: {every parameter}}`.
    public func encode(to encoder: any Encoder) throws {
        guard !parameters.isEmpty else {
            var single = encoder.singleValueContainer()
            try single.encode(name)
            return
        }
        var outer = encoder.container(keyedBy: StrictMapping.Key.self)
        var inner = outer.nestedContainer(keyedBy: StrictMapping.Key.self, forKey: StrictMapping.Key(name))
        for (key, value) in parameters { try inner.encode(value, forKey: StrictMapping.Key(key)) }
    }
}

/// `data.features`: the features computed for every asset (and the market-wide calendar), in column order.
///
/// YAML: a list of features (`Feature`), or the original form `{volumeWindow: 20, volatilityWindow: 20}`, which is
/// the five features `logReturn, range, body, volumeZ, volatility` with those windows. Omitted: those five with
/// 20-bar windows. Those five encode (and so hash) in the mapping form, as before the list existed; others as the list.
public struct FeatureConfig: Codable, Sendable, Equatable {
    /// The features in column order.
    public var list: [Feature]

    /// The five original features with 20-bar windows.
    public init() { self.init(volumeWindow: 20, volatilityWindow: 20) }

    /// `logReturn, range, body, volumeZ, volatility` with the given windows.
    public init(volumeWindow: Int, volatilityWindow: Int) {
        list = [.logReturn, .range, .body, .volumeZ(window: volumeWindow), .volatility(window: volatilityWindow)]
    }

    /// The features as listed.
    public init(_ list: [Feature]) { self.list = list }

    public init(from decoder: any Decoder) throws {
        if var items = try? decoder.unkeyedContainer() {
            var list: [Feature] = []
            while !items.isAtEnd { list.append(try items.decode(Feature.self)) }
            self.init(list)
            return
        }
        guard (try? decoder.container(keyedBy: StrictMapping.Key.self)) != nil else {
            let names = Feature.defaults.map(\.name).joined(separator: ", ")
            let message = "must be a list of features (\(names)) or {volumeWindow, volatilityWindow}"
            throw StrictMapping.error(decoder.codingPath, message)
        }
        let p = try StrictMapping(decoder, what: "features", allowed: ["volumeWindow", "volatilityWindow"])
        self.init(volumeWindow: try p("volumeWindow", 20), volatilityWindow: try p("volatilityWindow", 20))
    }

    /// The original five as their mapping form (so configs written before the list existed keep their JSON and
    /// hash), any other list as the list.
    public func encode(to encoder: any Encoder) throws {
        if let (wv, wr) = legacyWindows {
            var c = encoder.container(keyedBy: StrictMapping.Key.self)
            try c.encode(wv, forKey: StrictMapping.Key("volumeWindow"))
            try c.encode(wr, forKey: StrictMapping.Key("volatilityWindow"))
            return
        }
        var items = encoder.unkeyedContainer()
        for feature in list { try items.encode(feature) }
    }

    /// The K per-asset columns (`logReturn`, `return21`, …), in order.
    public var assetColumns: [String] { list.filter { !$0.isMarketWide }.flatMap(\.columns) }

    /// The market-wide columns (the calendar's).
    public var marketColumns: [String] { list.filter(\.isMarketWide).flatMap(\.columns) }

    /// The per-asset features alone (what coarser time frames compute on their period bars).
    public var perAsset: FeatureConfig { FeatureConfig(list.filter { !$0.isMarketWide }) }

    /// Each feature's warm-up in bars (a rank takes that of the column it ranks), in list order.
    public var warmups: [(feature: String, bars: Int)] {
        list.map { feature in
            if case .crossSectionalRank(let of) = feature {
                return (feature.name, list.first { $0.columns.contains(of) }?.lookBack ?? 0)
            }
            return (feature.name, feature.lookBack)
        }
    }

    /// The first row at which every feature is defined.
    public var warmup: Int { warmups.map(\.bars).max() ?? 0 }

    /// The windows of the original five-feature list (`FeatureConfig(volumeWindow:volatilityWindow:)`), else nil.
    var legacyWindows: (volume: Int, volatility: Int)? {
        guard list.count == 5, case .volumeZ(let wv) = list[3], case .volatility(let wr) = list[4],
            list == FeatureConfig(volumeWindow: wv, volatilityWindow: wr).list
        else { return nil }
        return (wv, wr)
    }

    /// Checks every parameter; `context` starts each message (`DataConfig: features`), `allowed` limits the feature
    /// names (side series take only the value-based ones).
    func validate(_ context: String, allowed: [String]? = nil) throws {
        func bad(_ message: String) -> MarketDataError { MarketDataError("\(context): \(message)") }
        guard !assetColumns.isEmpty else { throw bad("no per-asset feature in the list") }
        var seen = Set<String>()
        for feature in list {
            guard seen.insert(feature.name).inserted else { throw bad("'\(feature.name)' is listed twice") }
            if let allowed, !allowed.contains(feature.name) {
                throw bad("'\(feature.name)' is not available here (use: \(allowed.joined(separator: ", ")))")
            }
        }
        if let (wv, wr) = legacyWindows, wv < 2 || wr < 2 {
            throw MarketDataError(
                "DataConfig: features.volumeWindow \(wv) and features.volatilityWindow \(wr) must be at least 2")
        }
        let rankable = Set(list.filter { !$0.isMarketWide && $0.name != "crossSectionalRank" }.flatMap(\.columns))
        for feature in list {
            let name = feature.name
            // Every whole number among the parameters is a count of bars (a window, horizon, span or MACD period).
            for (key, value) in feature.parameters {
                let bars =
                    (value as? Int).map { [$0] } ?? (value as? [Int]) ?? (value as? [[Int]])?.flatMap { $0 } ?? []
                if let long = bars.first(where: { $0 > Feature.maxLookBack }) {
                    throw bad("\(name) \(key) \(long) must be at most \(Feature.maxLookBack) bars")
                }
            }
            switch feature {
            case .logReturn, .range, .body, .level, .observed: break
            case .volumeZ(let w), .volatility(let w), .zscore(let w):
                guard w >= 2 else { throw bad("\(name) window \(w) must be at least 2") }
            case .rsi(let w):
                guard w >= 1 else { throw bad("rsi window \(w) must be at least 1") }
            case .returns(let horizons, _, let span):
                guard !horizons.isEmpty, horizons.allSatisfy({ $0 >= 1 }), Set(horizons).count == horizons.count else {
                    throw bad("returns horizons \(horizons) must be distinct whole numbers of bars, at least 1")
                }
                guard span >= 2 else { throw bad("returns span \(span) must be at least 2") }
            case .macd(let pairs, let priceWindow, let signalWindow, _):
                guard !pairs.isEmpty, pairs.allSatisfy({ $0.count == 2 && 1 <= $0[0] && $0[0] < $0[1] }),
                    Set(pairs).count == pairs.count
                else {
                    throw bad("macd pairs \(pairs) must be distinct [short, long] with 1 <= short < long")
                }
                guard priceWindow >= 2, signalWindow >= 2 else {
                    throw bad("macd priceWindow \(priceWindow) and signalWindow \(signalWindow) must be at least 2")
                }
            case .calendar(let dayOfWeek, let monthOfYear):
                guard dayOfWeek || monthOfYear else { throw bad("calendar needs dayOfWeek or monthOfYear") }
            case .crossSectionalRank(let of):
                guard rankable.contains(of) else {
                    let columns = rankable.sorted().joined(separator: ", ")
                    throw bad("crossSectionalRank of '\(of)': not a column of the other features (\(columns))")
                }
            }
        }
    }
}

extension StrictMapping {
    /// No mapping at all: every key keeps its default (a feature written as a bare name).
    init(defaultsAt path: [any CodingKey]) {
        container = nil
        codingPath = path
    }
}
