import Foundation
import RunStore

/// The run store every command uses unless told otherwise.
let defaultStorePath = "runs/tradesim.sqlite"

/// Opens a store that must already exist (commands that read runs never create an empty one).
func existingStore(_ path: String) throws -> RunStore {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such run store") }
    return try RunStore(path: path)
}
