import Foundation
import RLCore
import Testing

@testable import MarketData

/// Damaged files never crash the loader: each load either gives a panel that keeps every price rule, or throws one
/// line that starts with the file name.
struct RobustnessTests {
    @Test(arguments: ["sp500_1999_2018_arch.csv", "eurusd_1h_ask_2017_gym_anytrading.csv", "n225_1990_2001_nolds.csv"])
    func damagedFilesGiveAValidPanelOrOneLineError(name: String) throws {
        let original = Array(try String(contentsOfFile: fixture(name), encoding: .utf8).utf8)
        var rng = SplitMix64(state: 42)  // the damage is the same on every run
        let junk = Array("0123456789,.-/:\n\r eEnaNulx".utf8)
        var loaded = 0, rejected = 0
        for policy in [RepairPolicy.error, .drop, .clamp] {
            for _ in 0..<100 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: bytes.remove(at: at)
                    case 1: bytes.insert(junk.randomElement(using: &rng)!, at: at)
                    default: bytes[at] = junk.randomElement(using: &rng)!
                    }
                }
                let path = writeTemp(name, String(decoding: bytes, as: UTF8.self))
                do {
                    let (p, _) = try load(path, name: name) { $0.repair = policy }
                    loaded += 1
                    #expect(zip(p.timestamps, p.timestamps.dropFirst()).allSatisfy { $0 < $1 })
                    for c in p.close.indices {
                        let (o, h, l, cl, v) = (p.open[c], p.high[c], p.low[c], p.close[c], p.volume[c])
                        #expect([o, h, l, cl].allSatisfy { $0.isFinite && $0 > 0 } && v.isFinite && v >= 0)
                        #expect(h >= max(o, cl) && l <= min(o, cl))
                    }
                } catch {
                    rejected += 1
                    let message = "\(error)"
                    #expect(
                        message.hasPrefix(name + ":") && !message.contains("\n") && !message.contains("\r"),
                        "\(message)")
                }
            }
        }
        #expect(loaded > 0 && rejected > 0)
    }
}
