import Foundation
import Testing

@Test func metricsCommandPrintsOneJSONObject() throws {
    let dir = try temporaryDirectory()
    let path = dir + "/r.csv"
    try "date,strategy\n2020-01-02,0.01\n2020-01-03,-0.02\n2020-01-06,0.015\n2020-01-07,0.005\n".write(toFile: path, atomically: true, encoding: .utf8)
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
