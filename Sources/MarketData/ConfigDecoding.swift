/// Strict decoding of config values that live inside lists (`data.features`, `data.side`), where the strict YAML layer
/// (which lays a file over the encoded defaults) cannot see keys: an unknown key is an error naming the allowed ones,
/// a missing key keeps its default. Errors are `DecodingError.dataCorrupted` at the element's coding path with a
/// `MarketDataError` as the underlying error: the config loader prints that message with the key path and line.
struct StrictMapping {
    /// Any string or integer key.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
    }

    /// nil when the value is empty (`rsi:` with nothing after it): every key keeps its default.
    let container: KeyedDecodingContainer<Key>?
    let codingPath: [any CodingKey]

    /// The mapping at `decoder`; `what` names it in messages (`feature rsi`, `side series`), `allowed` are its keys.
    init(_ decoder: any Decoder, what: String, allowed: [String]) throws {
        codingPath = decoder.codingPath
        if let single = try? decoder.singleValueContainer(), single.decodeNil() {
            container = nil
            return
        }
        guard let keyed = try? decoder.container(keyedBy: Key.self) else {
            throw Self.error(codingPath, "\(what) must be a mapping")
        }
        container = keyed
        for key in keyed.allKeys where !allowed.contains(key.stringValue) {
            let known = allowed.isEmpty ? "it takes none" : "known: \(allowed.joined(separator: ", "))"
            throw Self.error(codingPath, "unknown key '\(key.stringValue)' of \(what) (\(known))")
        }
    }

    /// The value at `key`, or `fallback` when the key is absent.
    func callAsFunction<T: Decodable>(_ key: String, _ fallback: T) throws -> T {
        try container?.decodeIfPresent(T.self, forKey: Key(key)) ?? fallback
    }

    /// An enum value written as its raw string; anything else is an error naming the allowed values.
    func choice<E: CaseIterable & RawRepresentable>(_ key: String, _ fallback: E) throws -> E
    where E.RawValue == String {
        let text: String = try self(key, fallback.rawValue)
        guard let value = E(rawValue: text) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw Self.error(codingPath + [Key(key)], "'\(text)' is not one of \(allowed)")
        }
        return value
    }

    /// The decoding error that carries `message` (see the type's comment).
    static func error(_ path: [any CodingKey], _ message: String) -> DecodingError {
        .dataCorrupted(
            DecodingError.Context(
                codingPath: path, debugDescription: message,
                underlyingError: MarketDataError(message)))
    }
}

/// The first value `values` holds more than once, if any (a ticker or a seed listed twice).
public func repeatedValue<T: Hashable>(_ values: [T]) -> T? {
    var seen = Set<T>()
    return values.first { !seen.insert($0).inserted }
}
