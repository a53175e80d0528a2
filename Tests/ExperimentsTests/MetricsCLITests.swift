import Foundation
import Testing

@Test func metricsCommandPrintsOneJSONObject() throws {
    let dir = try temporaryDirectory()
    let path = dir + "/r.csv"
    try "date,strategy\n2020-01-02,0.01\n2020-01-03,-0.02\n2020-01-06,0.015\n2020-01-07,0.005\n".write(
        toFile: path, atomically: true, encoding: .utf8)
    let r = try runCLI(["metrics", path, "--resamples", "50"])
    #expect(r.status == 0, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(object["column"] as? String == "strategy")
    #expect(object["bars"] as? Int == 4)
    // W = 1.01, 0.9898, 1.004647, 1.00967… : the drawdown is 0.9898 / 1.01 − 1
    #expect(abs((object["maxDrawdown"] as? Double ?? 0) - (0.9898 / 1.01 - 1)) < 1e-12)
    #expect(object.keys.contains("calmar") && object.keys.contains("psr") && object.keys.contains("sharpeInterval95"))
}

@Test(arguments: [
    ("date,r\n2020-01-02,0.01\n2020-01-03,NaN\n", [] as [String], "r.csv:3: column 'r'"),
    ("date,r\n2020-01-02,0.01\n", ["--column", "x"], "no column 'x'"),
    ("date,r\n", [], "header only"),
    ("", [], "empty"),
    // several numeric columns, none named return / returns / reward: the error lists them (and never picks episodeId)
    (
        "episodeId,date,equity,note\n1,2020-01-02,100,a\n2,2020-01-03,101,b\n", [],
        "r.csv:1: no column named return, returns or reward; "
            + "name one with --column (numeric columns: episodeId, equity)"
    ),
    ("return\n1e200\n1e200\n1e200\n", [], "r.csv: column 'return': the metrics overflow"),
    ("returns\n0.01\n-1.5\n", [], "r.csv:3: column 'returns': -1.5 is below -1"),
])
func metricsBadInputGivesOneErrorLine(csv: String, flags: [String], expected: String) throws {
    let dir = try temporaryDirectory()
    let path = dir + "/r.csv"
    try csv.write(toFile: path, atomically: true, encoding: .utf8)
    let r = try runCLI(["metrics", path] + flags)
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains(expected), "\(r.stderr)")
}

@Test func metricsCommandReadsTheRewardColumnOfAStepsExport() throws {
    let dir = try temporaryDirectory()
    let path = dir + "/steps.csv"
    try """
    episodeId,split,episodeIndex,barIndex,timestamp,date,action,position,reward,equity
    7,validation,0,0,1293840000,2011-01-03,2,1,0.01,10100
    7,validation,0,1,1293926400,2011-01-04,2,1,-0.02,9898
    7,validation,0,2,1294012800,2011-01-05,0,0,0.03,10194.94

    """.write(toFile: path, atomically: true, encoding: .utf8)
    let r = try runCLI(["metrics", path, "--resamples", "0"])
    #expect(r.status == 0, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(object["column"] as? String == "reward")
    #expect(abs((object["totalReturn"] as? Double ?? 0) - (1.01 * 0.98 * 1.03 - 1)) < 1e-12)
}
