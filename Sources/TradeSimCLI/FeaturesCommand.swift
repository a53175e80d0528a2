import ArgumentParser
import Experiments
import Foundation
import MarketData

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Write an environment's feature matrix as CSV: date, split, one column per feature, from the first "
            + "bar after the warm-up; normalised as the agents see it unless --raw.")

    @Argument(help: "environments/NAME.yaml")
    var file: String
    @Option(help: "Only the bars of this split (train, validation or test); default every bar.")
    var split: Split?
    @Flag(help: "The raw features, before the train-fitted normaliser.")
    var raw = false
    @Option(help: "The CSV file to write (default: standard output).")
    var out: String?

    func run() throws {
        if let out { try checkOutput(out, flag: "--out", reads: try MarketSetup.files(path: file)) }
        let setup = try MarketSetup(path: file)
        let dataset = setup.dataset
        let matrix = raw ? dataset.features : dataset.observations
        let bars = split.map { setup.bars(of: $0) } ?? 0..<matrix.rows
        let rows = max(bars.lowerBound, matrix.warmup)..<bars.upperBound
        if let split, rows.isEmpty {
            throw CLIError("\(file): the \(split.rawValue) split has no bars after the features' warm-up (data.splits)")
        }
        let splits = Split.allCases.map { (name: $0.rawValue, bars: setup.bars(of: $0)) }
        let output = try Output(out)
        var text = "date,split," + matrix.names.joined(separator: ",") + "\n"
        for t in rows {
            text += dataset.panel.dateText(ofBar: t) + "," + (splits.first { $0.bars.contains(t) }?.name ?? "")
            for j in 0..<matrix.width { text += ",\(matrix[t, j])" }
            text += "\n"
            if text.utf8.count > 1 << 20 {
                try output.write(text)
                text = ""
            }
        }
        try output.write(text)
        try output.close()
    }
}
