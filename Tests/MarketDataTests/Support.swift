import Foundation
import Testing

@testable import MarketData

/// Path of a committed fixture (Tests/MarketDataTests/Fixtures/NAME).
func fixture(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

/// The repository root (for the committed `data/` files).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// A fresh temporary directory for one test.
func tempDirectory() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("marketdata-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Writes `text` to a temporary file named `name` and returns its path.
func writeTemp(_ name: String, _ text: String) -> String {
    let path = tempDirectory() + "/" + name
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Loads a fixture or temp file into a panel; the config's `file` is set to `name` so messages name it.
func load(_ path: String, name: String? = nil, _ edit: (inout DataConfig) -> Void = { _ in }) throws -> (
    panel: Panel, report: LoadReport
) {
    var config = DataConfig()
    config.file = name ?? (path as NSString).lastPathComponent
    edit(&config)
    return try loadPanel(path: path, config: config)
}

/// The one-line message of the error that loading `text` (as file `name`) throws, or "no error".
func loadError(_ name: String, _ text: String, _ edit: (inout DataConfig) -> Void = { _ in }) -> String {
    do {
        _ = try load(writeTemp(name, text), name: name, edit)
        return "no error"
    } catch {
        return "\(error)"
    }
}

/// Days since 1970 of an ISO date, as a timestamp.
func day(_ iso: String) -> Int64 { DateParser.isoDay(iso)! }
