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
        "r.csv:1: no column named return or returns; name one with --column (numeric columns: episodeId, equity)"
    ),
    ("date,return\n2020-01-02,0.01,9\n", [], "r.csv:2: 3 fields, where the header has 2"),
    ("date,return\n2020-01-02\n", [], "r.csv:2: 1 fields, where the header has 2"),
    ("return,x,Return\n0.01,1,0.02\n", [], "r.csv:1: 2 columns named return or returns"),
    ("r,r\n0.01,0.02\n", ["--column", "r"], "r.csv:1: 2 columns 'r'"),
    ("date,\"return\n2020-01-02,0.01\n", [], "r.csv:1: a quoted field is not closed"),
    ("date,\"return\"x\n2020-01-02,0.01\n", [], "r.csv:1: text after a quoted field"),
    ("date,return\n2020-01-02,\u{FF}\n", [], "r.csv:2: column 'return'"),
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

/// A steps export's rewards are the environment's (a log return by default), not simple returns: without --column it
/// is refused with one line, where it was read as simple returns.
@Test func metricsCommandRefusesTheRewardColumnOfAStepsExport() throws {
    let dir = try temporaryDirectory()
    let path = dir + "/steps.csv"
    try """
    episodeId,split,episodeIndex,barIndex,timestamp,date,action,position,reward,equity
    7,validation,0,0,1293840000,2011-01-03,2,1,0.00995,10100
    7,validation,0,1,1293926400,2011-01-04,2,1,-0.0202,9898

    """.write(toFile: path, atomically: true, encoding: .utf8)
    let r = try runCLI(["metrics", path, "--resamples", "0"])
    #expect(r.status != 0 && r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("steps.csv: a steps export's reward is the environment's"), "\(r.stderr)")
    let named = try runCLI(["metrics", path, "--resamples", "0", "--column", "reward"])
    #expect(named.status == 0, "\(named.stderr)")
}

/// Quoted fields (RFC 4180: commas and doubled quotes inside), blanks around fields, and a gzip file.
@Test func metricsCommandReadsQuotedFieldsAndGzip() throws {
    let dir = try temporaryDirectory()
    let csv = "\"date, UTC\", \"my \"\"return\"\"\" , x\n2020-01-02,\"0.01\",a\n2020-01-03, -0.02 ,\"b,c\"\n"
    try csv.write(toFile: dir + "/q.csv", atomically: true, encoding: .utf8)
    let r = try runCLI(["metrics", dir + "/q.csv", "--resamples", "0", "--column", "my \"return\""])
    #expect(r.status == 0, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(object["bars"] as? Int == 2)
    #expect(abs((object["totalReturn"] as? Double ?? 0) - (1.01 * 0.98 - 1)) < 1e-12)
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
    gzip.arguments = ["-k", dir + "/q.csv"]
    try gzip.run()
    gzip.waitUntilExit()
    let g = try runCLI(["metrics", dir + "/q.csv.gz", "--resamples", "0", "--column", "my \"return\""])
    #expect(g.status == 0 && g.stdout == r.stdout, "\(g.stderr)")
}

/// A negative number is an option's value, not an option: a negative risk-free rate is read (it was "Missing value"),
/// and a negative seed is one line saying the value is invalid.
@Test func negativeNumbersAreOptionValues() throws {
    let dir = try temporaryDirectory()
    try "return\n0.01\n-0.02\n0.015\n0.004\n".write(toFile: dir + "/r.csv", atomically: true, encoding: .utf8)
    func sharpe(_ flags: [String]) throws -> Double? {
        let r = try runCLI(["metrics", dir + "/r.csv", "--resamples", "0"] + flags)
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return object?["sharpe"] as? Double
    }
    let zero = try #require(try sharpe([])), negative = try #require(try sharpe(["--risk-free", "-0.001"]))
    #expect(negative > zero)  // the excess return over a negative rate is larger
    let seed = try runCLI(["metrics", dir + "/r.csv", "--seed", "-3"])
    #expect(
        seed.failsWithOneErrorLine && seed.stderr.contains("The value '-3' is invalid for '--seed"), "\(seed.stderr)")
}
