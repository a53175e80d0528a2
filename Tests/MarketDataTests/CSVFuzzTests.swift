import Foundation
import FuzzSupport
import RLCore
import Testing

@testable import MarketData

/// Seeded fuzzing of the CSV loader on real files: byte flips, insertions, deletions, truncations, bad field values,
/// repeated / swapped / dropped lines, under every repair policy. Every case must either load a valid panel (finite
/// positive prices, strictly increasing dates) or throw ONE line that names the file; no crash, and each case finishes
/// within a time bound (a hang fails the test through the watchdog instead of blocking CI).
struct CSVFuzzTests {
    /// Cases per CI run (with the 1,500 YAML cases in ExperimentsTests, 10,000).
    static let cases = 8_500
    /// Seconds one case may take in a debug build.
    static let caseBound = 1.0

    /// The first rows of the committed files: single asset (M/D/YYYY, Adj Close) and the panel (long format, tickers).
    static let seeds: [(name: String, lines: [String])] = {
        let sp500 = try! String(contentsOfFile: repoRoot + "/data/sp500_1999_2018_arch.csv", encoding: .utf8)
        let panelBytes = try! FileBytes.read(repoRoot + "/data/us_stocks_20_1990_2012.csv.gz").dropLast()
        let panel = String(decoding: panelBytes.prefix(40_000), as: UTF8.self)
        // Split on the byte, so the `\r` of CRLF files (the S&P 500 file has them) stays at the end of each line.
        func lines(_ s: String, _ n: Int) -> [String] {
            s.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).prefix(n).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        return [("sp500.csv", lines(sp500, 120)), ("panel.csv", lines(panel, 120))]
    }()

    static let tokens = [
        "", "NaN", "nan", "inf", "-inf", "-1", "0", "-0", "1e309", "1e-320", "abc", "null", "\"", "\"1,2\"",
        "2020-02-30", "1/1/1999", "1999-01-04", "12/31/9999", "0/0/0", String(repeating: "9", count: 400),
        "+", ".", "1.2.3", "0x10", "1,5", " 12 ", "\t", "\r", "ÿ", "\u{0}",
    ]

    /// One mutated file, reproducible from its case number.
    static func mutated(_ k: Int) -> (name: String, bytes: [UInt8], repair: RepairPolicy) {
        var rng = Xoshiro256(seed: 0x5eed_0000 &+ UInt64(k))
        let seed = seeds[k % seeds.count]
        var lines = seed.lines
        let repair = RepairPolicy.allCases[Int.random(in: 0..<RepairPolicy.allCases.count, using: &rng)]
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let row = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:  // a field replaced by a bad token
                var fields = lines[row].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                fields[Int.random(in: 0..<fields.count, using: &rng)] = tokens.randomElement(using: &rng)!
                lines[row] = fields.joined(separator: ",")
            case 1: lines.insert(lines[row], at: Int.random(in: 0...lines.count, using: &rng))
            case 2: lines.swapAt(row, Int.random(in: 0..<lines.count, using: &rng))
            default: if lines.count > 1 { lines.remove(at: row) }
            }
        }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        for _ in 0..<Int.random(in: 0...4, using: &rng) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: bytes.insert(Array(",\n\r\"-.e0123456789\u{0}".utf8).randomElement(using: &rng)!, at: at)
            case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...40, using: &rng)))
            default: bytes.removeSubrange(at...)
            }
        }
        return (seed.name, bytes, repair)
    }

    /// Loads `bytes` as file `name` the way `loadPanel` does, from memory.
    static func load(_ name: String, _ bytes: [UInt8], repair: RepairPolicy) throws -> Panel {
        var config = DataConfig()
        config.file = name
        config.repair = repair
        let terminated = bytes + [0]
        var (assets, report) = try terminated.withUnsafeBufferPointer {
            try CSVLoader(name: name, config: config).parse($0)
        }
        return try Alignment.panel(assets, config: config, report: &report)
    }

    /// What is wrong with the outcome of case `k` (nil: a valid panel or one clean error line naming the file).
    static func problem(_ k: Int) -> String? {
        let (name, bytes, repair) = mutated(k)
        do {
            let p = try load(name, bytes, repair: repair)
            if !zip(p.timestamps, p.timestamps.dropFirst()).allSatisfy({ $0 < $1 }) { return "dates not increasing" }
            for prices in [p.open, p.high, p.low, p.close] where !prices.allSatisfy({ $0.isFinite && $0 > 0 }) {
                return "a price is not finite and positive"
            }
            if !p.volume.allSatisfy({ $0.isFinite && $0 >= 0 }) { return "a volume is not finite and ≥ 0" }
            return nil
        } catch let error as MarketDataError {
            let text = error.description
            if text.contains("\n") || text.contains("\r") { return "error spans lines: \(text.debugDescription)" }
            if !text.hasPrefix(name) { return "error does not name the file: \(text)" }
            return nil
        } catch {
            return "not a MarketDataError: \(error)"
        }
    }

    @Test func mutatedCSVFilesLoadOrFailWithOneLine() {
        let outcome = FuzzOutcome.run(cases: Self.cases, watchdog: 120) { Self.problem($0) }
        #expect(outcome.finished, "the fuzz loop hung (watchdog)")
        #expect(outcome.problems.isEmpty, "\(outcome.problems.prefix(5))")
        #expect(outcome.slowest < Self.caseBound, "slowest case took \(outcome.slowest) s")
        #expect(outcome.count == Self.cases)
    }

    @Test func mutatedGzipFilesFailWithOneLine() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: repoRoot + "/data/us_stocks_20_1990_2012.csv.gz"))
        let dir = tempDirectory()
        var rng = Xoshiro256(seed: 77)
        for k in 0..<200 {
            var bytes = [UInt8](whole.prefix(4_096 + k * 97))
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 0x5a
            }
            let path = dir + "/case\(k).csv.gz"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            var config = DataConfig()
            config.file = path
            do {
                _ = try loadPanel(path: path, config: config)
                Issue.record("case \(k): a damaged gzip file loaded")
            } catch let error as MarketDataError {
                #expect(error.description.hasPrefix(path) && !error.description.contains("\n"), "case \(k): \(error)")
            }
        }
    }
}
