import Foundation
import MarketData
import TradingEnv

@testable import Experiments

/// A synthetic daily market 2019–2021 (weekdays) in a temporary folder: train 2019, validation 2020, test 2021.
/// Each bar opens at the previous close; the close multiplies by `up` on even bars and by `down` on odd bars.
/// Returns the environment file's path; `commissionBps` is the environment's only cost.
func syntheticMarket(up: Double, down: Double, commissionBps: Double = 0) throws -> String {
    let dir = try temporaryDirectory()
    var csv = "Date,Open,High,Low,Close,Adj Close,Volume\n"
    var t = Date(timeIntervalSince1970: 1_546_300_800)  // 2019-01-01
    let end = Date(timeIntervalSince1970: 1_640_995_200)  // 2022-01-01
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    var close = 100.0, k = 0
    while t < end {
        let weekday = calendar.component(.weekday, from: t)
        if weekday != 1 && weekday != 7 {
            let c = calendar.dateComponents([.year, .month, .day], from: t)
            let open = close
            close *= k % 2 == 0 ? up : down
            let volume = 1_000_000 + 10_000 * (k % 7)
            csv +=
                "\(c.month!)/\(c.day!)/\(c.year!),\(open),\(max(open, close)),"
                + "\(min(open, close)),\(close),\(close),\(volume)\n"
            k += 1
        }
        t += 86_400
    }
    try csv.write(toFile: dir + "/market.csv", atomically: true, encoding: .utf8)
    let yaml = """
        data:
          file: market.csv
          splits: {train: [2019, 2019], validation: [2020, 2020], test: [2021, 2021]}
          features: {volumeWindow: 5, volatilityWindow: 5}
        market:
          window: 4
          costs: {commissionBps: \(commissionBps)}
          episode: {mode: whole}
          equityFloor: 0
        """
    try yaml.write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
    return dir + "/env.yaml"
}

/// A contender holding a fixed weight of the asset every bar, as a run of group `group`.
func fixedWeight(
    _ w: Double, name: String, group: String = "test/fixed #00000000", runId: Int64? = nil, setup: MarketSetup
) -> Contender {
    Contender(name: name, group: group, configHash: "00000000", runId: runId, setup: setup) { env in
        var env = env
        return runEpisode(&env, seed: 0, keepEvery: 1) { _ in (.weights([w]), w) }
    }
}

/// A contender that knows the next bar: long before a rising bar, short before a falling one.
func oracle(setup: MarketSetup) -> Contender {
    let close = setup.dataset.panel.close
    return Contender(name: "oracle", group: "test/oracle #11111111", configHash: "11111111", setup: setup) { env in
        var env = env
        return runEpisode(&env, seed: 0, keepEvery: 1) { o in
            let w: Double = close[o.bar + 1] > close[o.bar] ? 1 : -1
            return (.weights([w]), w)
        }
    }
}
