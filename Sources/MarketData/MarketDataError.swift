/// A bad data file or an impossible data configuration, as ONE line: `FILE:ROW: column 'NAME': what is wrong`.
///
/// Row numbers are 1-based line numbers in the file (the header is line 1).
public struct MarketDataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The one-line message.
    public let description: String

    /// Wraps a ready-made message; control characters quoted from a damaged file (`\r`, `\n`, tabs…) are escaped so the
    /// message stays one printable line.
    public init(_ description: String) {
        self.description = description.unicodeScalars.map { c in
            c.value < 0x20 || c.value == 0x7F ? c.escaped(asASCII: true) : String(c)
        }.joined()
    }

    /// `FILE:ROW: column 'COLUMN': message`.
    static func at(_ file: String, row: Int, column: String, _ message: String) -> MarketDataError {
        MarketDataError("\(file):\(row): column '\(column)': \(message)")
    }

    /// `FILE:ROW: message` for problems that concern a whole row.
    static func at(_ file: String, row: Int, _ message: String) -> MarketDataError {
        MarketDataError("\(file):\(row): \(message)")
    }
}
