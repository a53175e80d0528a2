import Foundation
import RunStore

/// The run store every command uses unless told otherwise.
let defaultStorePath = "runs/tradesim.sqlite"

/// Opens a store that must already exist (commands that read runs never create one, nor turn a database that holds
/// none into one): a SQLite file, or a PostgreSQL database (`postgresql://user@host:port/db`) that holds tradesim's
/// tables.
func existingStore(_ path: String) throws -> RunStore { try RunStore(path: path, create: false) }

/// `existingStore` for a command that only reads runs: a SQLite store whose folder takes no new file (read-only media,
/// another user's folder) is read as it is.
func storeToRead(_ path: String) throws -> RunStore { try RunStore(path: path, create: false, writing: false) }
