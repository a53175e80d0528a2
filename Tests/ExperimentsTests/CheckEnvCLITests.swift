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

@Test func badFlagGivesOneErrorLine() throws {
    let r = try runCLI(["check-env", "environments/sp500-daily.yaml", "--steps", "zero"])
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("--steps"))
}
