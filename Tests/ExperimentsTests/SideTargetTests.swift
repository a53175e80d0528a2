import Foundation
import MarketData
import Testing

@testable import Experiments

/// Pretraining labels on a side series: the planted market with its own closes beside it as an untraded "index".
@Suite(.serialized) struct SideTargetTests {
    /// The planted market of `plantedSignalMarket` with `index.csv` (its closes) as the side series `IDX`.
    func market() throws -> String {
        let dir = try plantedSignalMarket()
        let rows = try String(contentsOfFile: dir + "/planted.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let index = rows.map { row in
            let f = row.split(separator: ","); return "\(f[0]),\(f[4])"
        }
        let text = (["Date,Close"] + index).joined(separator: "\n")
        try text.write(toFile: dir + "/index.csv", atomically: true, encoding: .utf8)
        let env = try String(contentsOfFile: dir + "/env.yaml", encoding: .utf8).replacingOccurrences(
            of: "  features: {volumeWindow: 5, volatilityWindow: 5}\n",
            with: "  features: {volumeWindow: 5, volatilityWindow: 5}\n"
                + "  side: [{file: index.csv, column: Close, name: IDX}]\n")
        try env.write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func labelsOnASideSeriesPretrainAndPassTheAudit() throws {
        let dir = try market()
        let setup = try MarketSetup(path: dir + "/env.yaml")
        let onIndex = try EventLabels.compute(
            setup.dataset.panel, side: setup.dataset.side,
            config: EventLabelConfig(target: "IDX", up: 0.01, down: 0.01, horizon: 2))
        let onAsset = try EventLabels.compute(
            setup.dataset.panel,
            config: EventLabelConfig(up: 0.01, down: 0.01, horizon: 2))
        #expect(onIndex.values == onAsset.values && onIndex.weights == [1])  // the index is the asset's closes
        let file = try pretrainFile(dir, steps: 20)
        let yaml = try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(
            of: "labels: {up: 0.01,", with: "labels: {target: IDX, up: 0.01,")
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let outcome = try runPretrain(file)
        #expect(outcome.reports.map(\.split) == [.validation, .test] && outcome.run.status == .finished)
        let audit = try runCLI(["audit", file, "--cuts", "2"])
        #expect(
            audit.status == 0 && audit.stdout.contains("PASS event labels")
                && audit.stdout.contains("PASS side series"),
            "\(audit.stdout)\(audit.stderr)")
    }
}
