import Foundation
import Testing

@testable import Experiments

@Test(arguments: ["environments/sp500-daily.yaml", "environments/us-stocks-daily.yaml"])
func shippedEnvironmentsPassTheChecker(file: String) throws {
    let r = try runCLI(["check-env", file, "--steps", "300"])
    #expect(r.status == 0, "\(r.stderr)")
    for split in ["train", "validation", "test"] { #expect(r.stdout.contains("check \(split): ok")) }
}

@Test func everyEnvironmentYAMLDecodesStrictly() throws {
    let dir = repoRoot + "/environments"
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
    #expect(files.count >= 2)
    for f in files { _ = try EnvironmentSpec.load(dir + "/" + f) }
}

/// Writes `environments/bad.yaml`-style files in a temp folder next to a copy of the S&P data reference.
func badEnvironment(_ yaml: String) throws -> String {
    let dir = try temporaryDirectory()
    let path = dir + "/env.yaml"
    try yaml.replacingOccurrences(of: "DATA", with: repoRoot + "/data/sp500_1999_2018_arch.csv")
        .write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Test(arguments: [
    ("data: {file: DATA}\nmarket: {windw: 3}\n", "unknown key 'market.windw'"),
    ("data: {file: DATA}\nmarket: {window: ten}\n", "key 'market.window' must be an integer"),
    ("data: {file: DATA}\nmarket: {window: 5000}\n", "train split: window 5000"),
    ("data: {file: DATA}\nmarket: {costs: {commissionBps: -2}}\n", "costs.commissionBps must be a finite number ≥ 0"),
    ("data: {file: DATA}\nmarket: {reward: {kind: sharpe}}\n", "market.reward.kind"),
    ("data: {file: /nonexistent/x.csv}\n", "/nonexistent/x.csv"),
    ("data: {file: DATA, splits: {train: [1999, 2012], validation: [2011, 2012], test: [2013, 2018]}}\n", "overlap"),
])
func badEnvironmentFileGivesOneErrorLine(yaml: String, expected: String) throws {
    let path = try badEnvironment(yaml)
    let r = try runCLI(["check-env", path])
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains(path), "\(r.stderr)")
    #expect(r.stderr.contains(expected), "\(r.stderr)")
}

/// A panel whose train split holds 2 bars (its minimum-variance baseline needs a covariance of at least two daily
/// returns) is one error line at load time, where `train` stopped at a precondition in the baselines.
@Test func panelWithTooShortATrainSplitGivesOneErrorLine() throws {
    let dir = try temporaryDirectory()
    var csv = "Date,Ticker,Open,High,Low,Close,Volume\n"
    let days =
        ["2008-12-30", "2008-12-31"] + (1...20).map { String(format: "2009-01-%02d", $0) }
        + (1...20).map { String(format: "2010-01-%02d", $0) } + (1...20).map { String(format: "2011-01-%02d", $0) }
    for (t, day) in days.enumerated() {
        for (i, ticker) in ["AAA", "BBB", "CCC"].enumerated() {
            let p = 10 + Double(i) + 0.1 * Double(t % 5)
            csv += "\(day),\(ticker),\(p),\(p + 0.5),\(p - 0.5),\(p + 0.2),1000\n"
        }
    }
    try csv.write(toFile: dir + "/panel.csv", atomically: true, encoding: .utf8)
    let yaml = """
        data:
          file: panel.csv
          splits: {train: [2008, 2008], validation: [2009, 2009], test: [2010, 2010]}
          features: [body]
        market:
          window: 1
          actions: {kind: weights, longOnly: true}
        """
    try yaml.write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
    let r = try runCLI(["check-env", dir + "/env.yaml"])
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains(dir + "/env.yaml") && r.stderr.contains("the train split has 2 bars"), "\(r.stderr)")
    // three train bars are enough
    try yaml.replacingOccurrences(
        of: "{train: [2008, 2008], validation: [2009, 2009], test: [2010, 2010]}",
        with: "{train: [2008, 2009], validation: [2010, 2010], test: [2011, 2011]}"
    ).write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
    let ok = try runCLI(["check-env", dir + "/env.yaml"])
    #expect(ok.status == 0, "\(ok.stderr)")
}

@Test func badFlagGivesOneErrorLine() throws {
    let r = try runCLI(["check-env", "environments/sp500-daily.yaml", "--steps", "zero"])
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("--steps"))
}
