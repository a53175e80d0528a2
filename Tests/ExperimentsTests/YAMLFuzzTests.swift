import Foundation
import FuzzSupport
import RLCore
import Testing
import Yams

@testable import Experiments

/// Seeded fuzzing of the config decoders on the shipped YAML files (environments, agents, experiments): byte flips,
/// insertions, deletions, truncations, values replaced by hostile tokens, lines repeated, moved or re-indented. Every
/// case must decode or throw ONE `ConfigError` line naming the file; a decoded environment must also build its market
/// environments or fail with one line (no crash on absurd windows, costs or sizes). Each case is time-bounded.
struct YAMLFuzzTests {
    static let cases = 1_500
    static let caseBound = 1.0

    static let seeds: [(kind: String, text: String)] = {
        var seeds: [(String, String)] = []
        for folder in ["environments", "agents", "experiments"] {
            let files =
                (try? FileManager.default.contentsOfDirectory(atPath: repoRoot + "/" + folder))?.filter {
                    $0.hasSuffix(".yaml")
                }.sorted() ?? []
            for f in files {
                seeds.append((folder, try! String(contentsOfFile: repoRoot + "/\(folder)/\(f)", encoding: .utf8)))
            }
        }
        return seeds
    }()

    static let tokens = [
        "-1", "0", "1e400", "-1e400", ".nan", ".inf", "9223372036854775807", "-9223372036854775808",
        "99999999999999999999", "1e18", "[", "]", "{", "}", "[1, 2", "~", "", "null", "true", "'x'", "\"",
        "!!binary aGk=", "&a x", "*a", "*nope", "<<: *a", "- x", "{a: 1}", "[[[[[[[[]]]]]]]]", "0x7fffffff",
        "2011", "[2030, 2031]", "[2012, 2011]", "[]", "nextClose", "weights", "|", ">", "%YAML 1.1", "\t",
    ]

    /// Case `k`: which seed and its mutated text.
    static func mutated(_ k: Int) -> (kind: String, text: String) {
        var rng = Xoshiro256(seed: 0xfa11_0000 &+ UInt64(k))
        let seed = seeds[k % seeds.count]
        var lines = seed.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<Int.random(in: 1...3, using: &rng) where !lines.isEmpty {
            let row = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0, 1:  // a value replaced
                if let colon = lines[row].firstIndex(of: ":") {
                    lines[row] = String(lines[row][...colon]) + " " + tokens.randomElement(using: &rng)!
                }
            case 2: lines.insert(lines[row], at: Int.random(in: 0...lines.count, using: &rng))
            case 3:
                lines[row] =
                    String(repeating: " ", count: Int.random(in: 0...6, using: &rng))
                    + lines[row].trimmingCharacters(in: .whitespaces)
            default: lines.swapAt(row, Int.random(in: 0..<lines.count, using: &rng))
            }
        }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        for _ in 0..<Int.random(in: 0...3, using: &rng) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: bytes.insert(Array(":-[]{},'\"&*!|>#\n\t 0123456789".utf8).randomElement(using: &rng)!, at: at)
            case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...30, using: &rng)))
            default: bytes.removeSubrange(at...)
            }
        }
        return (seed.kind, String(decoding: bytes, as: UTF8.self))
    }

    /// The S&P 500 environment, loaded once: decoded market configs are checked by building its environments.
    static let setup = try! MarketSetup(path: repoRoot + "/environments/sp500-daily.yaml")

    /// What is wrong with case `k` (nil: decoded, or one clean error line naming the file).
    static func problem(_ k: Int, file: String) -> String? {
        let (kind, text) = mutated(k)
        do {
            try text.write(toFile: file, atomically: false, encoding: .utf8)
            switch kind {
            case "environments":
                let spec = try EnvironmentSpec.load(file)
                // Only a changed market section needs building (the rest is the shipped, known-good config).
                if spec.market != setup.spec.market {
                    for split in Split.allCases { _ = try setup.environment(split) { $0 = spec.market } }
                }
            case "agents":
                _ = try AgentFile.load(file)
            default:
                let e = try Experiment.load(file)
                _ = e.spec
            }
            return nil
        } catch let error as ConfigError {
            let line = error.description
            if line.contains("\n") { return "error spans lines: \(line.debugDescription)" }
            if !line.hasPrefix(file) && !line.hasPrefix(repoRoot) { return "error does not name the file: \(line)" }
            return nil
        } catch {
            return "not a ConfigError: \(type(of: error)): \(error)"
        }
    }

    @Test func mutatedConfigFilesDecodeOrFailWithOneLine() throws {
        #expect(Self.seeds.count >= 8)
        let dir = try temporaryDirectory()
        let outcome = FuzzOutcome.run(cases: Self.cases, watchdog: 150) { Self.problem($0, file: dir + "/case.yaml") }
        #expect(outcome.finished, "the fuzz loop hung (watchdog)")
        #expect(outcome.problems.isEmpty, "\(outcome.problems.prefix(5))")
        #expect(outcome.slowest < Self.caseBound, "slowest case took \(outcome.slowest) s")
        #expect(outcome.count == Self.cases)
    }
}
