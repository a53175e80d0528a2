import Foundation
import RunStore

/// The run store every command uses unless told otherwise.
let defaultStorePath = "runs/tradesim.sqlite"

/// Opens a store that must already exist (commands that read runs never create an empty one): a SQLite file, or a
/// PostgreSQL database (`postgresql://user@host:port/db`) that holds tradesim's tables.
func existingStore(_ path: String) throws -> RunStore {
    if RunStore.isURL(path) || path.isEmpty { return try RunStore(path: path, create: false) }
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such run store") }
    return try RunStore(path: path)
}
